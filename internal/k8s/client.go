package k8s

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// Clients bundles what the domain packages talk to. RESTConfig is kept for Helm and discovery.
type Clients struct {
	RESTConfig *rest.Config
	Kube       kubernetes.Interface
	Dynamic    dynamic.Interface
	// Kubeconfig is the file the clients were built from (for messages).
	Kubeconfig string
}

// ResolveKubeconfig returns the kubeconfig path to use: explicit, then K3s' path, then $KUBECONFIG,
// then ~/.kube/config. It fails naming every place it looked.
func ResolveKubeconfig(explicit string) (string, error) {
	if explicit != "" {
		if _, err := os.Stat(explicit); err != nil {
			return "", fmt.Errorf("kubeconfig %s: %w", explicit, err)
		}
		return explicit, nil
	}
	candidates := []string{defaults.K3sKubeconfig}
	if env := os.Getenv("KUBECONFIG"); env != "" {
		candidates = append(candidates, filepath.SplitList(env)...)
	}
	if home, err := os.UserHomeDir(); err == nil {
		candidates = append(candidates, filepath.Join(home, ".kube", "config"))
	}
	for _, c := range candidates {
		if _, err := os.Stat(c); err == nil {
			return c, nil
		}
	}
	return "", fmt.Errorf("no kubeconfig found: looked at %v; set the kubeconfig option", candidates)
}

// New builds clients from a kubeconfig file and an optional context name.
func New(kubeconfig, context string) (*Clients, error) {
	path, err := ResolveKubeconfig(kubeconfig)
	if err != nil {
		return nil, err
	}
	rules := &clientcmd.ClientConfigLoadingRules{ExplicitPath: path}
	overrides := &clientcmd.ConfigOverrides{CurrentContext: context}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides).ClientConfig()
	if err != nil {
		if context != "" && clientcmd.IsContextNotFound(err) {
			return nil, fmt.Errorf("kubeconfig %s has no context %q", path, context)
		}
		return nil, fmt.Errorf("load kubeconfig %s: %w", path, err)
	}
	cfg.QPS, cfg.Burst = defaults.ClientQPS, defaults.ClientBurst
	cfg.UserAgent = "cnimigrate"
	return FromConfig(cfg, path)
}

// FromConfig builds clients from a REST config (tests use the lab's config directly). Every
// request they make has a deadline (defaults.APIRequestTimeout, see BoundRequests); cfg itself is
// not changed.
func FromConfig(cfg *rest.Config, source string) (*Clients, error) {
	return fromConfig(cfg, source, defaults.APIRequestTimeout)
}

func fromConfig(cfg *rest.Config, source string, timeout time.Duration) (*Clients, error) {
	if cfg == nil {
		return nil, errors.New("no REST config")
	}
	cfg = rest.CopyConfig(cfg)
	BoundRequests(cfg, timeout)
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("build Kubernetes client from %s: %w", source, err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("build dynamic client from %s: %w", source, err)
	}
	return &Clients{RESTConfig: cfg, Kube: kube, Dynamic: dyn, Kubeconfig: source}, nil
}
