// kvplan's bundle of Debian's Vega (libjs-vega): Debian ships Vega as its separate UMD modules
// (d3 folded in), not as the one vega.min.js of the npm release. Each module calls define() with
// its dependencies; this loader hands them over by name, in the order cmake/vega_bundle.cmake
// concatenates the modules, and vega_epilogue.js assembles the `vega` object the reports use.
(function () {
  var registry = {}, current = null;
  window.define = function (deps, factory) {
    var exports = {};
    var args = deps.map(function (d) {
      if (d === 'exports') return exports;
      if (!(d in registry)) throw new Error('kvplan Vega bundle: ' + current + ' needs ' + d + ', not loaded before it');
      return registry[d];
    });
    factory.apply(null, args);
    registry[current] = exports;
  };
  window.define.amd = true;
  window.__kvplanVegaModule = function (name) { current = name; };
  window.__kvplanVegaRegistry = registry;
})();
