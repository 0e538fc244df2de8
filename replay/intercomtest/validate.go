package intercomtest

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

//go:embed openapi/intercom-openapi-2.14.yaml openapi/intercom-openapi-2.16.yaml
var openapiFiles embed.FS

type loadedDoc struct {
	once sync.Once
	doc  *openapi3.T
	err  error
}

// docs are parsed once per process, on first use: each file is tens of thousands of lines.
var docs = map[string]*loadedDoc{"2.14": {}, "2.16": {}}

// OpenAPI returns Intercom's description for version ("2.14" or "2.16") with the
// loosenings applied, so that client tests can validate against the same document.
func OpenAPI(version string) (*openapi3.T, error) {
	d, ok := docs[version]
	if !ok {
		return nil, fmt.Errorf("openapi description for Intercom-Version %s: not embedded", version)
	}
	d.once.Do(func() { d.doc, d.err = loadDoc(version) })
	return d.doc, d.err
}

func loadDoc(version string) (*openapi3.T, error) {
	name := "openapi/intercom-openapi-" + version + ".yaml"
	data, err := openapiFiles.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	doc, err := openapi3.NewLoader().LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", name, err)
	}
	for _, l := range Loosenings {
		if err := l.apply(doc); err != nil {
			return nil, fmt.Errorf("loosening %q on %s: %w", l.Name, version, err)
		}
	}
	return doc, nil
}

var pathParam = regexp.MustCompile(`\{([^}]+)\}`)

// validateRequest checks r against the operation method+path of version's description.
// r.Body must be re-readable by the caller afterwards (the filter replaces it).
func validateRequest(r *http.Request, version, method, path string) *apiError {
	doc, err := OpenAPI(version)
	if err != nil {
		return errf(http.StatusInternalServerError, "server_error", "intercomtest: %v", err)
	}
	item := doc.Paths.Value(path)
	if item == nil || item.GetOperation(method) == nil {
		return notFound(fmt.Sprintf("intercomtest: %s %s is not in the %s description", method, path, version))
	}
	params := map[string]string{}
	for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
		params[m[1]] = r.PathValue(m[1])
	}
	in := &openapi3filter.RequestValidationInput{
		Request:    r,
		PathParams: params,
		Route: &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method,
			Operation: item.GetOperation(method)},
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
	}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
		e := invalid("intercomtest: request does not match OpenAPI %s for %s %s: %v", version, method, path, err)
		if missingRequired(err) {
			e.code = "parameter_not_found"
		}
		return e
	}
	return nil
}

// missingRequired tells a request that leaves out a required parameter,
// body or body field, which Intercom answers with 400 parameter_not_found
// (spec §13 "Name is a required parameter.", §8 "company not specified";
// codes in §4), from one whose values are wrong (parameter_invalid).
func missingRequired(err error) bool {
	if errors.Is(err, openapi3filter.ErrInvalidRequired) {
		return true
	}
	var se *openapi3.SchemaError
	return errors.As(err, &se) && se.SchemaField == "required"
}
