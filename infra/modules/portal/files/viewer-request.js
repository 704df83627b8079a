// Viewer-request function of the portal's S3 behaviour (cloudfront-js-2.0).
// - "/" and "/portal" redirect to "/portal/", where the app lives;
// - a path under /portal/ whose last segment has no extension is a route of the app, answered
//   with /portal/index.html (the app routes on the client); a path with an extension is a file
//   and goes to S3 unchanged, so a missing asset stays an error instead of an HTML page;
// - anything else is not the portal's: 404 here, without a request to the bucket.
// API paths never reach this function: /v1/* and /openapi.json have their own behaviours.
function handler(event) {
  var request = event.request;
  var uri = request.uri;

  if (uri === '/' || uri === '/portal') {
    return {
      statusCode: 302,
      statusDescription: 'Found',
      headers: { location: { value: '/portal/' } },
    };
  }

  if (uri.startsWith('/portal/')) {
    var last = uri.substring(uri.lastIndexOf('/') + 1);
    if (last.indexOf('.') === -1) {
      request.uri = '/portal/index.html';
    }
    return request;
  }

  return {
    statusCode: 404,
    statusDescription: 'Not Found',
    headers: { 'cache-control': { value: 'no-store' } },
  };
}
