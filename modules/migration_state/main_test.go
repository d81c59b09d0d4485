package main

import (
	"os"
	"testing"

	"github.com/cnimigrate/cnimigrate/internal/ansible"
)

func TestSidecarDrift(t *testing.T) {
	doc, err := os.ReadFile("../../library/migration_state.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ansible.SidecarDrift(spec, doc) {
		t.Error(p)
	}
}
