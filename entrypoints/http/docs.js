// Swagger UI over this server's own document, "try it" on: requests go to this server with the
// key entered under Authorize (kept in this browser's storage, sent as X-API-Key or Bearer).
window.ui = SwaggerUIBundle({
  url: "/schema/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  tryItOutEnabled: true,
  persistAuthorization: true,
  displayRequestDuration: true,
  validatorUrl: null,
});
