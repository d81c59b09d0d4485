// Package k8s builds Kubernetes clients from a kubeconfig the way our modules find it on a K3s
// node: an explicit path, else /etc/rancher/k3s/k3s.yaml, else $KUBECONFIG, else ~/.kube/config.
//
// Every request of those clients has a deadline (BoundRequests), so a stuck API server fails a
// module naming the request it did not answer; IsTransient tells the errors worth retrying.
package k8s
