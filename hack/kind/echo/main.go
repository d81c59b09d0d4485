// Command echo is the kind tier's HTTP server, for connectivity_check's echo pods and the tier's
// workloads: it answers every request with its pod's name and the caller's address (a probe sees
// which replica answered and which source the server saw), and /healthz for readiness probes.
// It takes agnhost's `netexec --http-port=N` arguments, as connectivity_check's echo Deployment
// passes them to its default image, so the module runs unchanged with the tier's image.
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"
)

func main() {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "netexec" {
		args = args[1:]
	}
	fs := flag.NewFlagSet("echo", flag.ExitOnError)
	port := fs.Int("http-port", 8080, "TCP port to serve HTTP on")
	_ = fs.Parse(args)
	name := os.Getenv("POD_NAME")
	if name == "" {
		name, _ = os.Hostname()
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s\n", name, r.RemoteAddr)
	})
	srv := &http.Server{Addr: fmt.Sprintf(":%d", *port), Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
