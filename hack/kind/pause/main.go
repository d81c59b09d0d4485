// Command pause is the kind tier's sandbox ("pause") container: it holds a pod's namespaces,
// reaps the zombies it inherits as the pod's PID 1, and exits on SIGINT or SIGTERM. It does what
// Kubernetes' own pause.c does, built here from Go because no registry serves the upstream image.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for s := range sigs {
		if s != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			pid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
