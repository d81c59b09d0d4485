// sigs.k8s.io/mcs-api/controllers for the kind tier's Cilium build: Cilium v1.20.2 requires v0.5.2 of
// this nested module, whose zip the Go module proxy refuses (403). See README.md.
module sigs.k8s.io/mcs-api/controllers

go 1.23.0

require (
	github.com/go-logr/logr v1.4.2
	k8s.io/api v0.32.5
	k8s.io/apimachinery v0.32.5
	k8s.io/client-go v0.32.5
	sigs.k8s.io/controller-runtime v0.20.4
	sigs.k8s.io/mcs-api v0.5.0
)
