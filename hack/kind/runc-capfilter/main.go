// Command runc-capfilter stands in for runc on a machine whose processes lack some capabilities in
// their bounding set (some VMs withhold CAP_SYS_RESOURCE). Docker's --privileged and kind's node
// containers ask for every capability, and runc then fails with "unable to apply caps: operation
// not permitted". This wrapper removes, from the OCI spec it is about to hand to runc (a bundle's
// config.json for create/run, the process file for exec), every capability this process's own
// bounding set lacks, then executes the real runc with the same arguments. On a machine with the
// full set, the project runs stock runc and never this wrapper (hack/kind/engine.sh).
package main

import (
	"fmt"
	"os"
	"syscall"
)

// realRuncEnv names the runc this wrapper executes; default /usr/sbin/runc (Debian's runc).
const realRuncEnv = "CNIMIGRATE_REAL_RUNC"

func main() {
	if err := filterFor(os.Args[1:], boundingSet); err != nil {
		fmt.Fprintf(os.Stderr, "runc-capfilter: %v\n", err)
		os.Exit(1)
	}
	runc := os.Getenv(realRuncEnv)
	if runc == "" {
		runc = "/usr/sbin/runc"
	}
	err := syscall.Exec(runc, append([]string{runc}, os.Args[1:]...), os.Environ())
	fmt.Fprintf(os.Stderr, "runc-capfilter: exec %s: %v\n", runc, err)
	os.Exit(1)
}
