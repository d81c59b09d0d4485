package main

import (
	"os"
	"testing"

	"github.com/cnimigrate/cnimigrate/internal/ansible"
)

func TestSidecarMatchesSpec(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../library/cni_node_cleanup.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, problem := range ansible.SidecarDrift(spec, data) {
		t.Error(problem)
	}
}
