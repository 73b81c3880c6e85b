/* riverbed API docs: Swagger UI (its files come from the swagger-ui-bundle-v2 package, served by the
 * dashboard itself: nothing from the internet) over /openapi.json. A token kept by the dashboard
 * for this tab is sent with "Try it out" requests. */
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const token = sessionStorage.getItem("riverbed-token");
  window.SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    docExpansion: "list",
    requestInterceptor: (req) => {
      if (token) req.headers.Authorization = "Bearer " + token;
      return req;
    },
  });
});
