package lab

import (
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// KubeconfigName is the lab's kubeconfig file in its work dir.
const KubeconfigName = "kubeconfig"

// kubeconfigBytes renders a self-contained kubeconfig (certificates embedded, so it can be copied to
// node hosts as /etc/rancher/k3s/k3s.yaml) for the cluster admin, with K3s' names: cluster, user and
// context "default".
func kubeconfigBytes(server, pkiDir string) ([]byte, error) {
	read := func(name string) ([]byte, error) {
		b, err := os.ReadFile(filepath.Join(pkiDir, name))
		if err != nil {
			return nil, fmt.Errorf("read kwokctl PKI: %w", err)
		}
		return b, nil
	}
	ca, err := read("ca.crt")
	if err != nil {
		return nil, err
	}
	crt, err := read("admin.crt")
	if err != nil {
		return nil, err
	}
	key, err := read("admin.key")
	if err != nil {
		return nil, err
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["default"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: ca}
	cfg.AuthInfos["default"] = &clientcmdapi.AuthInfo{ClientCertificateData: crt, ClientKeyData: key}
	cfg.Contexts["default"] = &clientcmdapi.Context{Cluster: "default", AuthInfo: "default"}
	cfg.CurrentContext = "default"
	return clientcmd.Write(*cfg)
}

// restConfig loads a kubeconfig file into a REST config with the project's client rate limits.
func restConfig(path string) (*rest.Config, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return nil, fmt.Errorf("load lab kubeconfig %s: %w", path, err)
	}
	cfg.QPS, cfg.Burst = defaults.ClientQPS, defaults.ClientBurst
	cfg.UserAgent = "cnimigrate-lab"
	return cfg, nil
}
