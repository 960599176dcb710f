// Package web holds what the engine's two front doors, the JSON API and
// the web console, share at the level of HTTP itself, so neither imports
// the other: how large a request's headers may be.
//
//	if web.HeaderBytes(r) > web.MaxHeaderBytes { /* 431 */ }
package web

import "net/http"

// MaxHeaderBytes is the most a request's line and headers may take; a
// request with more is refused with 431 headers_too_large.
const MaxHeaderBytes = 64 << 10

// ServerMaxHeaderBytes is the http.Server.MaxHeaderBytes to serve the API
// with: well above MaxHeaderBytes, so a request up to it reaches the router
// and is refused in the API's error shape (or a mounted console's page);
// only beyond it does net/http refuse the request itself, with a plain-text
// 431.
const ServerMaxHeaderBytes = 4 << 20

// HeaderBytes returns how many bytes r's request line and headers take as
// HTTP/1.1 writes them, the Host header included.
func HeaderBytes(r *http.Request) int {
	n := len(r.Method) + 1 + len(r.RequestURI) + 1 + len(r.Proto) + 2
	if r.Host != "" {
		n += len("Host: ") + len(r.Host) + 2
	}
	for name, values := range r.Header {
		for _, v := range values {
			n += len(name) + 2 + len(v) + 2
		}
	}
	return n + 2
}
