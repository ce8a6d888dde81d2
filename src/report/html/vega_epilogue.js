// What Vega's own entry point (packages/vega/index.js) does: register the transforms with the
// dataflow and export the parser, the view and the expression interpreter.
(function () {
  var r = window.__kvplanVegaRegistry, dataflow = r['vega-dataflow'];
  ['vega-transforms', 'vega-view-transforms', 'vega-encode', 'vega-label', 'vega-hierarchy'].forEach(function (m) {
    Object.assign(dataflow.transforms, r[m]);
  });
  var vega = {};
  ['vega-statistics', 'vega-time', 'vega-util', 'vega-loader', 'vega-scenegraph'].forEach(function (m) {
    Object.assign(vega, r[m]);
  });
  vega.View = r['vega-view'].View;
  vega.parse = r['vega-parser'].parse;
  vega.expressionFunction = r['vega-functions'].expressionFunction;
  vega.scale = r['vega-scale'].scale;
  vega.scheme = r['vega-scale'].scheme;
  // Expressions interpreted rather than compiled with new Function(): the report's content
  // security policy allows no eval (and no network).
  vega.expressionInterpreter = r['vega-interpreter'].expressionInterpreter;
  window.vega = vega;
  delete window.define;
  delete window.__kvplanVegaModule;
  delete window.__kvplanVegaRegistry;
})();
