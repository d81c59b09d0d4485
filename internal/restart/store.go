package restart

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	appsinformers "k8s.io/client-go/informers/apps/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/tools/cache"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// Resources the store watches besides the workload kinds.
const (
	resPods      = "Pod"
	resRS        = "ReplicaSet"
	resEndpoints = "CiliumEndpoint"
	ownerIndex   = "owner"
)

var (
	gvrReplicaSets     = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "replicasets"}
	gvrCiliumEndpoints = schema.GroupVersionResource{Group: "cilium.io", Version: "v2", Resource: "ciliumendpoints"}
	gvrCiliumNodes     = schema.GroupVersionResource{Group: "cilium.io", Version: "v2", Resource: "ciliumnodes"}
)

// store holds one watch cache (informer) per resource and scope: the whole cluster, or each given
// namespace. Everything the run reads after Open comes from here.
type store struct {
	scopes map[string]map[string]cache.SharedIndexInformer // namespace ("" = all) → resource → informer
	cancel context.CancelFunc
}

// openStore starts the informers and waits until each has listed, failing fast on a list error.
func openStore(ctx context.Context, cl Clients, c *config, withEndpoints bool) (*store, error) {
	namespaces := c.namespaces
	if c.allNamespaces() || len(namespaces) > defaults.RestartNamespacedWatchesMax {
		// Every watch costs a connection and buffers: past a few namespaces, one cluster-wide watch
		// per resource is cheaper (Plan ignores objects outside the scope).
		namespaces = []string{metav1.NamespaceAll}
	}
	runCtx, cancel := context.WithCancel(context.Background())
	s := &store{scopes: map[string]map[string]cache.SharedIndexInformer{}, cancel: cancel}
	var (
		mu      sync.Mutex
		listErr []string
	)
	failed := make(chan struct{}, 1)
	for _, ns := range namespaces {
		inf := s.newScope(cl, c, ns, withEndpoints)
		for res, i := range inf {
			err := i.SetWatchErrorHandlerWithContext(func(_ context.Context, _ *cache.Reflector, err error) {
				if i.HasSynced() {
					return // a broken watch after the initial list: the reflector re-lists by itself
				}
				mu.Lock()
				listErr = append(listErr, fmt.Sprintf("list %s%s: %v", res, nsSuffix(ns), err))
				mu.Unlock()
				select {
				case failed <- struct{}{}:
				default:
				}
			})
			if err != nil {
				cancel()
				return nil, fmt.Errorf("set up watch of %s: %w", res, err)
			}
			go i.RunWithContext(runCtx)
		}
	}
	synced := make(chan bool, 1)
	go func() { synced <- cache.WaitForCacheSync(runCtx.Done(), s.hasSynced()...) }()
	select {
	case <-synced:
		return s, nil
	case <-failed:
	case <-ctx.Done():
		mu.Lock()
		listErr = append(listErr, ctx.Err().Error())
		mu.Unlock()
	}
	cancel()
	mu.Lock()
	defer mu.Unlock()
	sort.Strings(listErr)
	return nil, fmt.Errorf("read the cluster's workloads: %s", strings.Join(listErr, "; "))
}

func nsSuffix(ns string) string {
	if ns == "" {
		return ""
	}
	return " in namespace " + ns
}

func (s *store) newScope(cl Clients, c *config, ns string, withEndpoints bool) map[string]cache.SharedIndexInformer {
	selector := func(o *metav1.ListOptions) { o.LabelSelector = c.LabelSelector }
	idx := cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc, ownerIndex: indexByController}
	inf := map[string]cache.SharedIndexInformer{
		resPods: coreinformers.NewFilteredPodInformer(cl.Kube, ns, 0, idx, nil),
	}
	if c.kinds[KindDeployment] {
		inf[KindDeployment] = appsinformers.NewFilteredDeploymentInformer(cl.Kube, ns, 0, cache.Indexers{}, selector)
		inf[resRS] = metadatainformer.NewFilteredMetadataInformer(cl.Metadata, gvrReplicaSets, ns, 0, idx, nil).Informer()
	}
	if c.kinds[KindStatefulSet] {
		inf[KindStatefulSet] = appsinformers.NewFilteredStatefulSetInformer(cl.Kube, ns, 0, cache.Indexers{}, selector)
	}
	if c.kinds[KindDaemonSet] {
		inf[KindDaemonSet] = appsinformers.NewFilteredDaemonSetInformer(cl.Kube, ns, 0, cache.Indexers{}, selector)
	}
	if withEndpoints {
		inf[resEndpoints] = metadatainformer.NewFilteredMetadataInformer(cl.Metadata, gvrCiliumEndpoints, ns, 0, cache.Indexers{}, nil).Informer()
	}
	for res, i := range inf {
		// Transforms run before anything is cached: they keep only what the run reads (memory).
		_ = i.SetTransform(transformFor(res))
	}
	s.scopes[ns] = inf
	return inf
}

func (s *store) hasSynced() []cache.InformerSynced {
	var out []cache.InformerSynced
	for _, inf := range s.scopes {
		for _, i := range inf {
			out = append(out, i.HasSynced)
		}
	}
	return out
}

// close stops every watch.
func (s *store) close() { s.cancel() }

// informer returns the informer holding res for namespace ns (nil when that resource is not watched).
func (s *store) informer(res, ns string) cache.SharedIndexInformer {
	if inf, ok := s.scopes[metav1.NamespaceAll]; ok {
		return inf[res]
	}
	return s.scopes[ns][res]
}

// list returns every cached object of res across scopes.
func (s *store) list(res string) []any {
	var out []any
	for _, inf := range s.scopes {
		if i := inf[res]; i != nil {
			out = append(out, i.GetStore().List()...)
		}
	}
	return out
}

// get returns the cached object res ns/name, or nil.
func (s *store) get(res, ns, name string) any {
	i := s.informer(res, ns)
	if i == nil {
		return nil
	}
	obj, ok, err := i.GetStore().GetByKey(ns + "/" + name)
	if err != nil || !ok {
		return nil
	}
	return obj
}

// byOwner returns the cached objects of res in ns whose controller has the given UID.
func (s *store) byOwner(res, ns string, uid types.UID) []any {
	i := s.informer(res, ns)
	if i == nil {
		return nil
	}
	objs, err := i.GetIndexer().ByIndex(ownerIndex, string(uid))
	if err != nil {
		return nil
	}
	return objs
}

// podsOf returns the cached pods of a workload: its own, or for a Deployment its ReplicaSets'.
func (s *store) podsOf(w *workload) []*corev1.Pod {
	owners := []types.UID{w.uid}
	if w.Kind == KindDeployment {
		owners = owners[:0]
		for _, o := range s.byOwner(resRS, w.Namespace, w.uid) {
			if m, ok := o.(metav1.Object); ok {
				owners = append(owners, m.GetUID())
			}
		}
	}
	var pods []*corev1.Pod
	for _, uid := range owners {
		for _, o := range s.byOwner(resPods, w.Namespace, uid) {
			if p, ok := o.(*corev1.Pod); ok {
				pods = append(pods, p)
			}
		}
	}
	sort.Slice(pods, func(i, j int) bool { return pods[i].Name < pods[j].Name })
	return pods
}

func indexByController(obj any) ([]string, error) {
	m, ok := obj.(metav1.Object)
	if !ok {
		return nil, nil
	}
	if ref := metav1.GetControllerOfNoCopy(m); ref != nil {
		return []string{string(ref.UID)}, nil
	}
	return nil, nil
}
