package state

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/util/retry"
)

// Cordons keeps in the migration state, per node, whether the node was cordoned before the
// migration first cordoned it. The migration then uncordons only the nodes it cordoned, also
// when it is re-run after an interruption (the node is cordoned by then) and in a rollback.
type Cordons struct {
	ConfigMaps      corev1client.ConfigMapsGetter
	Namespace, Name string
}

// Ref names the ConfigMap the record is kept in.
func (c Cordons) Ref() string { return c.Namespace + "/" + c.Name }

// CordonedBefore returns the recorded state of node; known is false when none is recorded (or
// there is no migration state).
func (c Cordons) CordonedBefore(ctx context.Context, node string) (cordoned, known bool, err error) {
	rec, _, err := c.read(ctx)
	if err != nil || rec == nil {
		return false, false, err
	}
	if p := rec.Nodes[node]; p != nil && p.CordonedBefore != nil {
		return *p.CordonedBefore, true, nil
	}
	return false, false, nil
}

// RecordCordonedBefore records node's state unless one is recorded already, and returns the
// recorded one: the first record wins, so a re-run does not take the migration's own cordon for
// the operator's. It creates the migration state when there is none.
func (c Cordons) RecordCordonedBefore(ctx context.Context, node string, cordoned bool) (bool, error) {
	recorded := cordoned
	err := retry.RetryOnConflict(conflictBackoff, func() error {
		rec, cm, err := c.read(ctx)
		if err != nil {
			return err
		}
		after := rec.clone()
		if p := after.Nodes[node]; p != nil && p.CordonedBefore != nil {
			recorded = *p.CordonedBefore
			return nil
		}
		if after.Nodes == nil {
			after.Nodes = map[string]*Progress{}
		}
		if after.Nodes[node] == nil {
			after.Nodes[node] = &Progress{}
		}
		after.Nodes[node].CordonedBefore = &cordoned
		recorded = cordoned
		return write(ctx, c.ConfigMaps, cm, after, Parameters{Namespace: c.Namespace, Name: c.Name})
	})
	if err != nil {
		return false, fmt.Errorf("record in %s whether node %s was cordoned before the migration: %w", c.Ref(), node, err)
	}
	return recorded, nil
}

// read returns the record and its ConfigMap (both nil when there is none).
func (c Cordons) read(ctx context.Context) (*Record, *corev1.ConfigMap, error) {
	cm, err := c.ConfigMaps.ConfigMaps(c.Namespace).Get(ctx, c.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read migration state ConfigMap %s: %w", c.Ref(), err)
	}
	rec, err := decode(cm)
	return rec, cm, err
}
