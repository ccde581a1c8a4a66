/* Plotly's geo maps load a world basemap (topojson) from a CDN as soon as a trace uses its own
   GeoJSON, even with every basemap layer hidden. These pages draw only the boundaries they carry,
   so give plotly an empty basemap up front: nothing is fetched, in an office with no internet
   or from a folder opened with file://. Load this before plotly.min.js. */
window.PlotlyGeoAssets = window.PlotlyGeoAssets || { topojson: {} };
(function () {
  var empty = { type: "Topology", arcs: [], objects: {} };
  ["land", "ocean", "lakes", "rivers", "coastlines", "countries", "subunits", "frame"].forEach(function (name) {
    empty.objects[name] = { type: "GeometryCollection", geometries: [] };
  });
  ["world_110m", "world_50m"].forEach(function (name) {
    window.PlotlyGeoAssets.topojson[name] = empty;
  });
})();
