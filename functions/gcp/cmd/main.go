// Command main runs the Google Cloud Functions entries locally with the Functions Framework,
// as Cloud Functions would: every function at /<name> (HTTP) and /<name>-pubsub (CloudEvent),
// or only the one FUNCTION_TARGET names, at "/". PORT picks the port (default 8080);
// LOCAL_ONLY=true listens on 127.0.0.1 only.
//
//	FUNCTION_TARGET=ctyun-create-policy go run ./functions/gcp/cmd
package main

import (
	"log"
	"os"

	"github.com/GoogleCloudPlatform/functions-framework-go/funcframework"

	_ "github.com/lbfn/lbfn/functions/gcp" // registers every function
)

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	host := ""
	if os.Getenv("LOCAL_ONLY") == "true" {
		host = "127.0.0.1"
	}
	if err := funcframework.StartHostPort(host, port); err != nil {
		log.Fatalf("functions framework: %v", err)
	}
}
