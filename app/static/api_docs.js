// The API reference: Swagger UI (from the swagger-ui-bundle package) on this server's OpenAPI document.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({
    url: root.dataset.spec,
    domNode: root,
    deepLinking: false, // its links sit inside the operation buttons: a control in a control
    displayOperationId: true,
    tryItOutEnabled: true,
    persistAuthorization: false,
    validatorUrl: null, // never ask swagger.io to validate the document
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout"
  });
})();
