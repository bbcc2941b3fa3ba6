// Starts Swagger UI on /docs. A file, not an inline script, so the page keeps the app's
// Content-Security-Policy (script-src 'self').
"use strict";
window.addEventListener("DOMContentLoaded", function () {
  var node = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({ url: node.dataset.openapi, dom_id: "#swagger-ui" });
});
