package main

import (
	"testing"

	"github.com/cnimigrate/cnimigrate/internal/ansible/ansibletest"
)

func TestSidecarMatchesSpec(t *testing.T) {
	ansibletest.CheckSidecar(t, spec)
}
