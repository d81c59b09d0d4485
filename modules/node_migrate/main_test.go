package main

import (
	"strings"
	"testing"

	"github.com/cnimigrate/cnimigrate/internal/ansible/ansibletest"
)

func TestSidecarMatchesSpec(t *testing.T) {
	ansibletest.CheckSidecar(t, spec)
}

func TestArgsValidate(t *testing.T) {
	ok := args{Timeout: 1, StateConfigMap: "cnimigrate-state", StateNamespace: "kube-system"}
	if err := ok.validate(); err != nil {
		t.Fatalf("valid args refused: %v", err)
	}
	for name, mutate := range map[string]func(*args){
		"timeout":         func(a *args) { a.Timeout = 0 },
		"state_configmap": func(a *args) { a.StateConfigMap = "Not_A/Name" },
		"state_namespace": func(a *args) { a.StateNamespace = "kube.system" },
	} {
		a := ok
		mutate(&a)
		if err := a.validate(); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: err = %v, want a refusal naming %s", name, err, name)
		}
	}
	off := args{Timeout: 1, StateNamespace: "Bad_Namespace"}
	if err := off.validate(); err != nil {
		t.Errorf("an empty state_configmap keeps no record and needs no namespace: %v", err)
	}
}
