package mockserver

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
)

// adminGuard checks the token of the reserved paths (Config.AdminToken).
type adminGuard struct {
	digest [sha256.Size]byte // of the token; comparing digests keeps the comparison's time independent of lengths
	set    bool
}

// newAdminGuard guards with token; "" guards nothing.
func newAdminGuard(token string) adminGuard {
	if token == "" {
		return adminGuard{}
	}
	return adminGuard{digest: sha256.Sum256([]byte(token)), set: true}
}

// enabled reports whether a token is configured.
func (g *adminGuard) enabled() bool { return g.set }

// allows reports whether r may use a reserved path: always without a token, else only with
// `Authorization: Bearer TOKEN`, compared in constant time.
func (g *adminGuard) allows(r *http.Request) bool {
	if !g.set {
		return true
	}
	token, ok := bearerToken(r.Header.Get("Authorization"))
	if !ok {
		return false
	}
	got := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(got[:], g.digest[:]) == 1
}

// refuse answers a request for a reserved path without the token.
func (g *adminGuard) refuse(w http.ResponseWriter) {
	w.Header().Set("Www-Authenticate", `Bearer realm="mockserver admin"`)
	writeJSON(w, http.StatusUnauthorized, errorBody{Error: "unauthorized",
		Message: "this path needs the admin token: Authorization: Bearer TOKEN (Config.AdminToken)"})
}

// Admin returns h's guard for a handler of the caller's own (ratemock's /_store): requests without the
// token get 401, as h's reserved paths do. Without Config.AdminToken, next is served to anyone.
func (h *Handler) Admin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !h.admin.allows(r) {
			h.admin.refuse(w)
			return
		}
		next.ServeHTTP(w, r)
	})
}
