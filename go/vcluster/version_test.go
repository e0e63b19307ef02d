package vcluster

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// The Go module is versioned with the npm packages' fixed group (scripts/sync-go-version.mjs).
func TestVersionFollowsTheFixedGroup(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "packages", "api", "package.json"))
	if err != nil {
		t.Fatal(err)
	}
	var pkg struct{ Version string }
	if err := json.Unmarshal(data, &pkg); err != nil {
		t.Fatal(err)
	}
	if Version != pkg.Version {
		t.Errorf("Version = %q, the npm packages are at %q: run node scripts/sync-go-version.mjs", Version, pkg.Version)
	}
}
