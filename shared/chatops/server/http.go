package server

import (
	"io"
	"net/http"
)

// maxBody bounds a webhook body read by ServeHTTP; chat callbacks are a few kilobytes.
const maxBody = 1 << 20

// ServeHTTP serves the routes over net/http (the dev server, the Google Cloud HTTP function).
// Without Options.BaseURL, replies come back to https:// and the request's Host.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		return
	}
	base := ""
	if r.Host != "" {
		base = "https://" + r.Host
	}
	out := s.Serve(r.Context(), Request{Path: r.URL.Path, Method: r.Method, Header: r.Header, Query: r.URL.Query(),
		Body: body, BaseURL: base})
	for k, vs := range out.Header {
		w.Header()[http.CanonicalHeaderKey(k)] = vs
	}
	if out.Status == 0 {
		out.Status = http.StatusOK
	}
	w.WriteHeader(out.Status)
	_, _ = w.Write(out.Body)
}
