package policy

import (
	"errors"
	"regexp"
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
	case !inIdentity(key):
		return "", errors.New("Cilium's default label filter leaves this label out of pod identities, so no Cilium selector can match it")
	}
	return selector.Identity(key)
}

// identityPrefixes is Cilium's default identity label filter (pkg/labelsfilter, v1.20): a pod
// label is part of the identity when no "ignore" prefix matches at the start of its key, or an
// "include" prefix matches a longer part of it.
var identityPrefixes = []struct {
	re     *regexp.Regexp
	ignore bool
}{
	{regexp.MustCompile(`io\.kubernetes\.pod\.namespace`), false},
	{regexp.MustCompile(`io\.cilium\.k8s\.namespace\.labels`), false},
	{regexp.MustCompile(`app\.kubernetes\.io`), false},
	{regexp.MustCompile(`io\.cilium\.k8s\.policy\.cluster`), false},
	{regexp.MustCompile(`io\.cilium\.k8s\.policy\.serviceaccount`), false},
	{regexp.MustCompile(`io\.kubernetes`), true},
	{regexp.MustCompile(`kubernetes\.io`), true},
	{regexp.MustCompile(`statefulset\.kubernetes\.io/pod-name`), true},
	{regexp.MustCompile(`apps\.kubernetes\.io/pod-index`), true},
	{regexp.MustCompile(`batch\.kubernetes\.io/job-completion-index`), true},
	{regexp.MustCompile(`batch\.kubernetes\.io/controller-uid`), true},
	{regexp.MustCompile(`.*beta\.kubernetes\.io`), true},
	{regexp.MustCompile(`k8s\.io`), true},
	{regexp.MustCompile(`pod-template-generation`), true},
	{regexp.MustCompile(`pod-template-hash`), true},
	{regexp.MustCompile(`controller-revision-hash`), true},
	{regexp.MustCompile(`controller-uid`), true},
	{regexp.MustCompile(`annotation.*`), true},
	{regexp.MustCompile(`etcd_node`), true},
	{regexp.MustCompile(`topology\.kubernetes\.io`), true},
}

// inIdentity reports whether Cilium's default filter keeps a pod label key in the identity.
func inIdentity(key string) bool {
	included, ignored := 0, 0
	for _, p := range identityPrefixes {
		loc := p.re.FindStringIndex(key)
		if loc == nil || loc[0] != 0 {
			continue
		}
		switch {
		case p.ignore && (ignored == 0 || loc[1] < ignored):
			ignored = loc[1]
		case !p.ignore && loc[1] > included:
			included = loc[1]
		}
	}
	return ignored == 0 || included > ignored
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
