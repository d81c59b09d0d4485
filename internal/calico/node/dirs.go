package node

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/BurntSushi/toml"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// criPlugins are the containerd plugin sections that hold the CRI's cni settings: config version
// 2 (containerd 1.x, K3s ≤ 1.31) and version 3 (containerd 2.x).
var criPlugins = []string{"io.containerd.grpc.v1.cri", "io.containerd.cri.v1.runtime"}

// CNIDirs is where a node keeps CNI configs and plugins.
type CNIDirs struct {
	// FromConfig are the dirs containerd's config names (empty when it names none).
	ConfFromConfig []string
	BinFromConfig  []string
	// Conf and Bin are every directory searched: the configured ones, then the standard and K3s dirs.
	Conf []string
	Bin  []string
}

// parseContainerdCNI returns the conf and bin dirs a containerd config.toml sets for the CRI
// plugin (bin_dir, bin_dirs, conf_dir, in either config version).
func parseContainerdCNI(data []byte) (conf, bin []string, err error) {
	var doc map[string]any
	if _, err := toml.Decode(string(data), &doc); err != nil {
		return nil, nil, fmt.Errorf("parse containerd config: %w", err)
	}
	plugins, _ := doc["plugins"].(map[string]any)
	for _, name := range criPlugins {
		plugin, _ := plugins[name].(map[string]any)
		cni, _ := plugin["cni"].(map[string]any)
		if s, ok := cni["conf_dir"].(string); ok && s != "" {
			conf = append(conf, s)
		}
		if s, ok := cni["bin_dir"].(string); ok && s != "" {
			bin = append(bin, s)
		}
		if list, ok := cni["bin_dirs"].([]any); ok {
			for _, e := range list {
				if s, ok := e.(string); ok && s != "" {
					bin = append(bin, s)
				}
			}
		}
	}
	return conf, bin, nil
}

// discoverDirs finds the CNI dirs: explicit overrides win outright; otherwise containerd's config
// (a missing file is normal: K3s omits the section with --flannel-backend=none), then the standard
// dirs and K3s' own.
func discoverDirs(containerdConfig string, confOverride, binOverride []string) (CNIDirs, error) {
	var d CNIDirs
	if len(confOverride) > 0 || len(binOverride) > 0 {
		d.Conf, d.Bin = uniq(confOverride), uniq(binOverride)
		return d, nil
	}
	data, err := os.ReadFile(containerdConfig)
	switch {
	case err == nil:
		if d.ConfFromConfig, d.BinFromConfig, err = parseContainerdCNI(data); err != nil {
			return d, fmt.Errorf("%s: %w", containerdConfig, err)
		}
	case errors.Is(err, fs.ErrNotExist):
	default:
		return d, fmt.Errorf("read containerd config: %w", err)
	}
	d.Conf = uniq(append(append([]string{}, d.ConfFromConfig...), defaults.StandardCNIConfDir, defaults.K3sCNIConfDir))
	d.Bin = uniq(append(append([]string{}, d.BinFromConfig...), defaults.StandardCNIBinDir, defaults.K3sCNIBinDir))
	return d, nil
}

func uniq(paths []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range paths {
		p = filepath.Clean(p)
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}
