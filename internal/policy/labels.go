package policy

import (
	"errors"
	"strings"

	"github.com/cnimigrate/cnimigrate/internal/policy/selector"
)

// Labels Calico adds to workload endpoints and namespace profiles.
const (
	calicoNamespaceLabel      = "projectcalico.org/namespace"      // pod: its namespace
	calicoServiceAccountLabel = "projectcalico.org/serviceaccount" // pod: its service account
	calicoNameLabel           = "projectcalico.org/name"           // namespace: its name
	calicoInternalPrefix      = "projectcalico.org/"
	calicoNamespaceLabelPfx   = "pcns." // pod: a label of its namespace
	calicoSALabelPfx          = "pcsa." // pod: a label of its service account
)

// podKey maps a key of a Calico endpoint selector (pod labels) to Cilium's identity labels.
func podKey(key string) (string, error) {
	switch {
	case key == calicoNamespaceLabel:
		return ciliumNamespaceKey, nil
	case key == calicoServiceAccountLabel:
		return ciliumServiceAccountKey, nil
	case strings.HasPrefix(key, calicoNamespaceLabelPfx):
		return namespaceLabelKey(strings.TrimPrefix(key, calicoNamespaceLabelPfx))
	case strings.HasPrefix(key, calicoSALabelPfx):
		return "", errors.New("Cilium identities carry no service-account labels (only the service account's name)")
	case strings.HasPrefix(key, calicoInternalPrefix):
		return "", errors.New("a Calico-internal label with no Cilium equivalent")
	}
	return selector.Identity(key)
}

// namespaceKey maps a key of a Calico namespace selector (namespace labels).
func namespaceKey(key string) (string, error) {
	switch {
	case key == calicoNameLabel:
		return ciliumNamespaceKey, nil
	case strings.HasPrefix(key, calicoInternalPrefix):
		return "", errors.New("a Calico-internal namespace label with no Cilium equivalent")
	}
	return namespaceLabelKey(key)
}

func namespaceLabelKey(key string) (string, error) {
	if _, err := selector.Identity(key); err != nil {
		return "", err
	}
	return ciliumNamespaceLabels + key, nil
}
