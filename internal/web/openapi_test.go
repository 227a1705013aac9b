package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/web"
)

// openAPIFile is docs/openapi.yaml, relative to this package's directory (go test runs here).
const openAPIFile = "../../docs/openapi.yaml"

type securityRequirements []map[string][]string

// openAPI is the part of docs/openapi.yaml the tests check.
type openAPI struct {
	OpenAPI  string                          `yaml:"openapi"`
	Security securityRequirements            `yaml:"security"`
	Tags     []struct{ Name string }         `yaml:"tags"`
	Paths    map[string]map[string]yaml.Node `yaml:"paths"`
	raw      map[string]any                  // the whole document, to resolve $ref
	ops      map[string]operation            // by "METHOD /path"
}

type operation struct {
	OperationID string                `yaml:"operationId"`
	Tags        []string              `yaml:"tags"`
	Security    *securityRequirements `yaml:"security"` // nil: the document's default
	Parameters  []map[string]any      `yaml:"parameters"`
	RequestBody map[string]any        `yaml:"requestBody"`
	Responses   map[string]any        `yaml:"responses"`
	pathParams  []map[string]any      // the path item's own parameters
}

var openAPIMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

func loadOpenAPI(t testing.TB) *openAPI {
	t.Helper()
	data, err := os.ReadFile(openAPIFile)
	if err != nil {
		t.Fatalf("read the API description: %v", err)
	}
	doc := &openAPI{ops: map[string]operation{}}
	if err := yaml.Unmarshal(data, doc); err != nil {
		t.Fatalf("%s: %v", openAPIFile, err)
	}
	if err := yaml.Unmarshal(data, &doc.raw); err != nil {
		t.Fatalf("%s: %v", openAPIFile, err)
	}
	for path, item := range doc.Paths {
		var shared []map[string]any
		if n, ok := item["parameters"]; ok {
			if err := n.Decode(&shared); err != nil {
				t.Fatalf("%s parameters: %v", path, err)
			}
		}
		for key, n := range item {
			if !slices.Contains(openAPIMethods, key) {
				continue
			}
			var op operation
			if err := n.Decode(&op); err != nil {
				t.Fatalf("%s %s: %v", key, path, err)
			}
			op.pathParams = shared
			doc.ops[strings.ToUpper(key)+" "+path] = op
		}
	}
	return doc
}

// security is the operation's security, or the document's default.
func (d *openAPI) security(op operation) securityRequirements {
	if op.Security != nil {
		return *op.Security
	}
	return d.Security
}

// resolve follows a local $ref ("#/components/…").
func (d *openAPI) resolve(ref string) (any, bool) {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, false
	}
	var cur any = d.raw
	for _, seg := range strings.Split(rest, "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[strings.NewReplacer("~1", "/", "~0", "~").Replace(seg)]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// deref returns v, or what it points at when it is a {$ref: …}.
func (d *openAPI) deref(v any) map[string]any {
	m, _ := v.(map[string]any)
	if ref, ok := m["$ref"].(string); ok {
		target, _ := d.resolve(ref)
		m, _ = target.(map[string]any)
	}
	return m
}

var (
	wildcard = regexp.MustCompile(`\{([^}]*)\}`)
	// goOnly strips pattern syntax OpenAPI lacks: {name...} becomes {name}; {$} goes.
	goOnly = strings.NewReplacer("...}", "}", "{$}", "")
)

// routeKey turns a ServeMux pattern ("GET /v1/users/{id}") into the form of openAPI.ops.
func routeKey(pattern string) (string, error) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok || !strings.HasPrefix(path, "/") || strings.ToUpper(method) != method {
		return "", fmt.Errorf("route %q is not \"METHOD /path\": give it a method so that it can be documented", pattern)
	}
	return method + " " + goOnly.Replace(path), nil
}

func TestOpenAPICoversEveryRoute(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	ts := newTestServer(t, withEveryFeature())

	// The test server must mount every feature, or its routes escape this check.
	typ := reflect.TypeFor[*web.Server]()
	for i := range typ.NumMethod() {
		if name := typ.Method(i).Name; strings.HasPrefix(name, "Mount") && !slices.Contains(mounted, name) {
			t.Errorf("(*web.Server).%s exists but the test server does not call it: add it to mountAll in web_test.go", name)
		}
	}

	registered := map[string]bool{}
	for _, pattern := range ts.web.Routes() {
		key, err := routeKey(pattern)
		if err != nil {
			t.Error(err)
			continue
		}
		registered[key] = true
		if _, ok := doc.ops[key]; !ok {
			t.Errorf("route %q is registered but not described in docs/openapi.yaml", pattern)
		}
	}
	for key := range doc.ops {
		// ServeMux answers HEAD on GET routes, so a documented HEAD needs only the GET.
		if method, path, _ := strings.Cut(key, " "); method == "HEAD" && registered["GET "+path] {
			continue
		}
		if !registered[key] {
			t.Errorf("docs/openapi.yaml describes %q, which the server does not register", key)
		}
	}
	if len(registered) < 15 {
		t.Errorf("only %d routes registered; is the test server missing a Mount?", len(registered))
	}
}

func TestOpenAPIIsWellFormed(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	if !strings.HasPrefix(doc.OpenAPI, "3.1.") {
		t.Errorf("openapi = %q, want 3.1.x", doc.OpenAPI)
	}
	schemes, _ := doc.resolve("#/components/securitySchemes")
	schemeNames, _ := schemes.(map[string]any)
	checkSecurity := func(where string, reqs securityRequirements) {
		for _, req := range reqs {
			for name := range req {
				if _, ok := schemeNames[name]; !ok {
					t.Errorf("%s: unknown security scheme %q", where, name)
				}
			}
		}
	}
	checkSecurity("document", doc.Security)

	var tags []string
	for _, tag := range doc.Tags {
		tags = append(tags, tag.Name)
	}
	operationIDs := map[string]string{}
	for key, op := range doc.ops {
		_, path, _ := strings.Cut(key, " ")
		if op.OperationID == "" {
			t.Errorf("%s has no operationId", key)
		} else if prev, dup := operationIDs[op.OperationID]; dup {
			t.Errorf("%s and %s share the operationId %q", prev, key, op.OperationID)
		}
		operationIDs[op.OperationID] = key
		if len(op.Tags) == 0 {
			t.Errorf("%s has no tag", key)
		}
		for _, tag := range op.Tags {
			if !slices.Contains(tags, tag) {
				t.Errorf("%s: tag %q is not declared under tags", key, tag)
			}
		}
		if op.Security != nil {
			checkSecurity(key, *op.Security)
		}

		// Path parameters: each {name} declared once, required; nothing else declared "in: path".
		declared := map[string]bool{}
		for _, p := range append(slices.Clone(op.pathParams), op.Parameters...) {
			p := doc.deref(p)
			if p["in"] != "path" {
				continue
			}
			name, _ := p["name"].(string)
			declared[name] = true
			if p["required"] != true {
				t.Errorf("%s: path parameter %q must be required: true", key, name)
			}
		}
		for _, m := range wildcard.FindAllStringSubmatch(path, -1) {
			if !declared[m[1]] {
				t.Errorf("%s: path parameter {%s} is not declared", key, m[1])
			}
			delete(declared, m[1])
		}
		for name := range declared {
			t.Errorf("%s declares path parameter %q, which is not in the path", key, name)
		}

		// Responses: at least one success; every error uses the one error shape.
		success := false
		for status, resp := range op.Responses {
			if strings.HasPrefix(status, "2") {
				success = true
			}
			// Codes below 400 are not errors ("default" sorts after them: it counts as one);
			// readyz answers 503 with its report, not an error.
			if status < "400" || key == "GET /readyz" {
				continue
			}
			content, _ := doc.deref(resp)["content"].(map[string]any)
			media, _ := content["application/json"].(map[string]any)
			schema, _ := media["schema"].(map[string]any)
			if schema["$ref"] != "#/components/schemas/Error" {
				t.Errorf("%s %s: an error response must be application/json with schema #/components/schemas/Error", key, status)
			}
		}
		if !success {
			t.Errorf("%s documents no 2xx response", key)
		}
		if op.RequestBody != nil {
			for _, status := range []string{"400", "413"} {
				if _, ok := op.Responses[status]; !ok {
					t.Errorf("%s takes a body but documents no %s", key, status)
				}
			}
		}
	}

	// Every $ref anywhere points at something.
	var walk func(at string, v any)
	walk = func(at string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				if _, found := doc.resolve(ref); !found {
					t.Errorf("%s: $ref %q does not resolve", at, ref)
				}
			}
			for k, child := range v {
				walk(at+"/"+k, child)
			}
		case []any:
			for i, child := range v {
				walk(fmt.Sprintf("%s/%d", at, i), child)
			}
		}
	}
	walk("#", doc.raw)
}

// TestOpenAPISecurityMatchesServer asks the server what each route demands and compares it
// with the operation's security: public routes must say security: [], routes behind a user
// must offer bearerAuth or cookieAuth, and cookieAuth must come with csrfToken exactly where
// the server enforces the CSRF header.
func TestOpenAPISecurityMatchesServer(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	ts := newTestServer(t, withEveryFeature())
	_, adminToken := ts.user(t, baton.RoleAdmin)
	admin := ts.login(t, adminToken)
	concrete := func(path string) string {
		return wildcard.ReplaceAllStringFunc(path, func(w string) string {
			if w == "{channel}" {
				return "webhook"
			}
			return "1"
		})
	}
	code := func(r response) string {
		var body web.ErrorBody
		json.Unmarshal(r.body, &body) //nolint:errcheck // not JSON: no code
		return body.Error.Code
	}

	for _, pattern := range ts.web.Routes() {
		key, err := routeKey(pattern)
		if err != nil {
			continue // reported by TestOpenAPICoversEveryRoute
		}
		op, ok := doc.ops[key]
		if !ok {
			continue // reported by TestOpenAPICoversEveryRoute
		}
		t.Run(pattern, func(t *testing.T) {
			t.Parallel()
			method, path, _ := strings.Cut(key, " ")
			path = concrete(path)
			sec := doc.security(op)
			schemes := map[string]bool{}
			for _, req := range sec {
				for name := range req {
					schemes[name] = true
				}
			}
			documentedUser := schemes["bearerAuth"] || schemes["cookieAuth"]

			anon := ts.do(t, call{method: method, path: path})
			needsUser := anon.status == http.StatusUnauthorized && code(anon) == "unauthorized"
			switch {
			case needsUser && !documentedUser:
				t.Fatalf("the server wants a user (401 without credentials) but the security is %v", sec)
			case !needsUser && documentedUser:
				t.Fatalf("the server answers %d without credentials but the security is %v; public routes say security: []", anon.status, sec)
			case !needsUser && anon.status != http.StatusUnauthorized && len(sec) != 0:
				t.Fatalf("the server answers %d without credentials; document security: [] instead of %v", anon.status, sec)
			case !needsUser && anon.status == http.StatusUnauthorized && len(sec) == 0:
				t.Fatalf("the server answers 401 (%s) without credentials; document the credential it checks", code(anon))
			}
			if !needsUser {
				return
			}
			if _, ok := op.Responses["401"]; !ok {
				t.Error("the route needs a user but documents no 401")
			}
			if !schemes["bearerAuth"] || !schemes["cookieAuth"] {
				t.Errorf("security %v, want both bearerAuth and cookieAuth accepted", sec)
			}

			// An admin's cookie without the CSRF header: refused exactly on writes.
			withCookie := ts.do(t, call{method: method, path: path, session: &admin})
			csrfEnforced := withCookie.status == http.StatusForbidden && code(withCookie) == "csrf"
			for _, req := range sec {
				if len(req) == 0 {
					t.Errorf("security %v has an empty requirement, which makes authentication optional", sec)
				}
				if _, cookie := req["cookieAuth"]; cookie {
					if _, csrf := req["csrfToken"]; csrf != csrfEnforced {
						t.Errorf("cookieAuth with csrfToken = %v, but the server enforces the CSRF header: %v (status %d)",
							csrf, csrfEnforced, withCookie.status)
					}
				}
			}
			if _, ok := op.Responses["403"]; csrfEnforced && !ok {
				t.Error("the route enforces CSRF but documents no 403")
			}
		})
	}
}
