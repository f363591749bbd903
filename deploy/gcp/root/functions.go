// Package lbfn is the root package of the source deploy/gcp/deploy.sh uploads to Google Cloud
// Functions. The Go buildpack builds the one non-main package it finds at the root of the
// upload (it parses that directory alone), through a generated main that imports it blank;
// because this package imports the Functions Framework's functions package, the buildpack
// uses that declarative main, and package gcp's init registers every function by name. In the
// repository the file lives here, so that the top level stays as it is; deploy.sh copies it to
// the top of the staged upload.
package lbfn

import (
	_ "github.com/GoogleCloudPlatform/functions-framework-go/functions" // selects the buildpack's declarative main
	_ "github.com/lbfn/lbfn/functions/gcp"                              // registers every function
)
