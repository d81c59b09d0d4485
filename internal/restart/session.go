package restart

import (
	"context"
	"fmt"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"

	"github.com/cnimigrate/cnimigrate/internal/k8s"
)

// Clients are the API clients a Session uses. Metadata serves the ReplicaSet and CiliumEndpoint
// caches (names and owners only); Dynamic lists CiliumNodes when their CIDRs are needed.
type Clients struct {
	Kube     kubernetes.Interface
	Dynamic  dynamic.Interface
	Metadata metadata.Interface
}

// ClientsFor builds Clients from the project's client bundle. The typed client speaks protobuf:
// listing and watching every pod of a cluster decodes several times faster, with less garbage,
// than JSON.
func ClientsFor(c *k8s.Clients) (Clients, error) {
	md, err := metadata.NewForConfig(c.RESTConfig)
	if err != nil {
		return Clients{}, fmt.Errorf("build metadata client from %s: %w", c.Kubeconfig, err)
	}
	pb := rest.CopyConfig(c.RESTConfig)
	pb.ContentType = runtime.ContentTypeProtobuf
	pb.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	kube, err := kubernetes.NewForConfig(pb)
	if err != nil {
		return Clients{}, fmt.Errorf("build Kubernetes client from %s: %w", c.Kubeconfig, err)
	}
	return Clients{Kube: kube, Dynamic: c.Dynamic, Metadata: md}, nil
}

// Session is one run: validated parameters and the open watch caches. Close it.
type Session struct {
	cfg      *config
	cl       Clients
	st       *store
	managed  *managedCheck // strategy unmanaged only
	source   string        // where the target CIDRs came from
	warnings []string
	progress *progress
}

// Open validates the parameters (every problem at once, before any API call), checks the given
// namespaces (a missing one is a warning), finds out how to tell managed pods (strategy unmanaged)
// and fills the watch caches. Nothing is changed.
func Open(ctx context.Context, cl Clients, p Parameters) (*Session, error) {
	c, err := p.parse()
	if err != nil {
		return nil, err
	}
	s := &Session{cfg: c, cl: cl, progress: &progress{fn: p.Progress}}
	if err := s.checkNamespaces(ctx); err != nil {
		return nil, err
	}
	var t *target
	if c.Strategy == StrategyUnmanaged {
		if t, err = discoverTarget(ctx, cl, c); err != nil {
			return nil, err
		}
	}
	syncCtx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	s.st, err = openStore(syncCtx, cl, c, t != nil && t.endpoints)
	if err != nil {
		return nil, err
	}
	if t != nil {
		s.managed = &managedCheck{cidrs: t.cidrs, endpoints: t.endpoints, st: s.st}
		s.source = t.source
	}
	return s, nil
}

// Close stops the watches.
func (s *Session) Close() {
	if s != nil && s.st != nil {
		s.st.close()
	}
}

// checkNamespaces drops given namespaces that do not exist, with a warning each.
func (s *Session) checkNamespaces(ctx context.Context) error {
	var kept []string
	for _, ns := range s.cfg.namespaces {
		_, err := s.cl.Kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			s.warnings = append(s.warnings, fmt.Sprintf("namespace %s does not exist: nothing to restart there", ns))
		case err != nil:
			return fmt.Errorf("check namespace %s: %w", ns, err)
		default:
			kept = append(kept, ns)
		}
	}
	if !s.cfg.allNamespaces() {
		s.cfg.namespaces = append([]string{}, kept...)
	}
	return nil
}

// progress serialises Parameters.Progress calls and numbers the starts.
type progress struct {
	fn    func(Event)
	mu    sync.Mutex
	order int
}

// report tells the caller about a step; on "start" it returns the step's start order.
func (p *progress) report(ref Ref, phase, outcome string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if phase == "start" {
		p.order++
	}
	if p.fn != nil {
		p.fn(Event{Ref: ref, Phase: phase, Outcome: outcome, Time: time.Now()})
	}
	return p.order
}
