package interop

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestVersionsMatchGoMod: the versions the tables print are the ones go.mod, package.json and
// package-lock.json pin.
func TestVersionsMatchGoMod(t *testing.T) {
	b, err := os.ReadFile("go.mod")
	require.NoError(t, err)
	pinned := map[string]string{}
	for line := range strings.SplitSeq(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && strings.HasPrefix(f[1], "v") {
			pinned[f[0]] = f[1]
		}
	}
	for module, want := range map[string]string{
		"github.com/go-chi/httprate":         httprateVersion,
		"github.com/ulule/limiter/v3":        ululeVersion,
		"github.com/throttled/throttled/v2":  throttledVersion,
		"github.com/didip/tollbooth/v7":      tollboothVersion,
		"github.com/sethvargo/go-limiter":    goLimiterVersion,
		"github.com/go-redis/redis_rate/v10": redisRateVersion,
		"github.com/labstack/echo/v4":        echoVersion,
	} {
		assert.Equal(t, pinned[module], want, module)
	}

	// package.json pins each exactly (npm install --save-exact), so that npm ci and the lock agree on it.
	b, err = os.ReadFile(filepath.Join("peers", "node", "package.json"))
	require.NoError(t, err)
	var manifest struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	require.NoError(t, json.Unmarshal(b, &manifest))
	b, err = os.ReadFile(filepath.Join("peers", "node", "package-lock.json"))
	require.NoError(t, err)
	var lock struct {
		Packages map[string]struct{ Version string } `json:"packages"`
	}
	require.NoError(t, json.Unmarshal(b, &lock))
	for pkg, want := range map[string]string{
		"express-rate-limit":  expressRateLimitVersion,
		"fastify":             fastifyVersion,
		"@fastify/rate-limit": fastifyRateLimitVersion,
	} {
		assert.Equal(t, want, manifest.Dependencies[pkg], "package.json: %s", pkg)
		assert.Equal(t, want, lock.Packages["node_modules/"+pkg].Version, "package-lock.json: %s", pkg)
	}
}

// TestVersionsMatchInstalled: the Flask-Limiter and limits versions the tables print are the ones the
// peers' python3 imports (Debian's packages; it skips where they are not installed, unless required).
func TestVersionsMatchInstalled(t *testing.T) {
	py, err := flaskPython()
	skipIfMissing(t, err)
	require.NoError(t, err)
	assert.Equal(t, flaskLimiterVersion, py.flaskLimiter, "flask_limiter.__version__ of %s", py.bin)
	assert.Equal(t, limitsVersion, py.limitsVersion, "limits.__version__ of %s", py.bin)
}
