// Command echo is the kind tier's HTTP server, for connectivity_check's echo pods and the tier's
// workloads: it answers every request with its pod's name and the caller's address (a probe sees
// which replica answered and which source the server saw), and /healthz for readiness probes.
// It takes agnhost's `netexec --http-port=N` arguments, as connectivity_check's echo Deployment
// passes them to its default image, so the module runs unchanged with the tier's image.
// `echo prober` is the tier's disruption prober (prober.go).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "prober" {
		runProber(args[1:])
		return
	}
	if len(args) > 0 && args[0] == "netexec" {
		args = args[1:]
	}
	fs := flag.NewFlagSet("echo", flag.ExitOnError)
	port := fs.Int("http-port", 8080, "TCP port to serve HTTP on")
	// Like a workload with a preStop sleep: keep answering while the endpoint is withdrawn.
	drain := fs.Duration("shutdown-delay", 0, "on SIGTERM, keep serving this long before shutting down")
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
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		time.Sleep(*drain)
		_ = srv.Shutdown(context.Background())
	}()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
