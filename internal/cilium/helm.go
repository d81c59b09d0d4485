package cilium

import (
	"fmt"
	"log/slog"
	"sync"

	"helm.sh/helm/v4/pkg/action"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
	"github.com/cnimigrate/cnimigrate/internal/k8s"
)

// restGetter is kubectl's ConfigFlags (our kubeconfig and context) with discovery cached in memory
// instead of ~/.kube/cache: a module run writes nothing to the node, and sees fresh CRDs.
type restGetter struct {
	*genericclioptions.ConfigFlags
	once   sync.Once
	dc     discovery.CachedDiscoveryInterface
	mapper meta.RESTMapper
	err    error
}

func newRESTGetter(kubeconfig, context, namespace string) *restGetter {
	flags := genericclioptions.NewConfigFlags(false)
	flags.KubeConfig, flags.Context, flags.Namespace = &kubeconfig, &context, &namespace
	flags.WrapConfigFn = func(c *rest.Config) *rest.Config {
		c.QPS, c.Burst = defaults.ClientQPS, defaults.ClientBurst
		c.UserAgent = "cnimigrate"
		c.WarningHandler = rest.NoWarnings{}
		k8s.BoundRequests(c, defaults.APIRequestTimeout)
		return c
	}
	return &restGetter{ConfigFlags: flags}
}

func (g *restGetter) init() {
	g.once.Do(func() {
		cfg, err := g.ToRESTConfig()
		if err != nil {
			g.err = err
			return
		}
		dc, err := discovery.NewDiscoveryClientForConfig(cfg)
		if err != nil {
			g.err = err
			return
		}
		g.dc = memory.NewMemCacheClient(dc)
		g.mapper = restmapper.NewDeferredDiscoveryRESTMapper(g.dc)
	})
}

// ToDiscoveryClient returns the in-memory cached discovery client.
func (g *restGetter) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	g.init()
	return g.dc, g.err
}

// ToRESTMapper returns a resettable mapper over the in-memory discovery.
func (g *restGetter) ToRESTMapper() (meta.RESTMapper, error) {
	g.init()
	return g.mapper, g.err
}

// newHelmConfig builds Helm's action configuration for our kubeconfig and context, releases kept as
// Secrets in namespace (like the helm CLI and cilium-cli), and Helm's logs discarded.
func newHelmConfig(kubeconfig, context, namespace string) (*action.Configuration, error) {
	cfg := action.NewConfiguration(action.ConfigurationSetLogger(slog.DiscardHandler))
	if err := cfg.Init(newRESTGetter(kubeconfig, context, namespace), namespace, defaults.HelmStorageDriver); err != nil {
		return nil, fmt.Errorf("helm configuration for kubeconfig %s: %w", kubeconfig, err)
	}
	return cfg, nil
}
