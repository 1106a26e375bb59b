// helm-render: renders a Helm chart's templates the way `helm template` does, for checking a
// chart where the helm binary is not available (Debian ships no helm). It uses Go's
// text/template with the sprig function library (the same library helm uses) and
// re-implements helm's own functions (include, tpl, required, fail, toYaml, fromYaml, toJson).
// It is a check, not a replacement: no subcharts, no lookup, no schema, no CRDs.
//
// Usage: helm-render CHART_DIR [-f values.yaml]... [--set a.b=c]... [--expect-error TEXT]
// Prints the manifests; exits 1 on any template error or when a document is not valid YAML
// or lacks apiVersion/kind/metadata.name. With --expect-error, succeeds only if rendering
// fails with an error containing TEXT.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"
	"gopkg.in/yaml.v3"
)

func die(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "helm-render: "+format+"\n", a...)
	os.Exit(1)
}

// toJSONish turns YAML-decoded data into what helm sees: JSON types (numbers are float64).
func toJSONish(v interface{}) interface{} {
	b, err := json.Marshal(v)
	if err != nil {
		die("values: %v", err)
	}
	var out interface{}
	if err := json.Unmarshal(b, &out); err != nil {
		die("values: %v", err)
	}
	return out
}

func readYAMLMap(path string) map[string]interface{} {
	b, err := os.ReadFile(path)
	if err != nil {
		die("%v", err)
	}
	var m map[string]interface{}
	if err := yaml.Unmarshal(b, &m); err != nil {
		die("%s: %v", path, err)
	}
	if m == nil {
		return map[string]interface{}{}
	}
	return toJSONish(m).(map[string]interface{})
}

func merge(dst, src map[string]interface{}) {
	for k, v := range src {
		if sm, ok := v.(map[string]interface{}); ok {
			if dm, ok := dst[k].(map[string]interface{}); ok {
				merge(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
}

func setPath(m map[string]interface{}, path string, raw string) {
	var v interface{}
	if err := yaml.Unmarshal([]byte(raw), &v); err != nil || v == nil {
		v = raw
	}
	v = toJSONish(map[string]interface{}{"v": v}).(map[string]interface{})["v"]
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p].(map[string]interface{})
		if !ok {
			next = map[string]interface{}{}
			m[p] = next
		}
		m = next
	}
	m[parts[len(parts)-1]] = v
}

func toYAML(v interface{}) string {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

func main() {
	if len(os.Args) < 2 {
		die("usage: helm-render CHART_DIR [-f values.yaml]... [--set k=v]... [--expect-error TEXT]")
	}
	chartDir := os.Args[1]
	values := readYAMLMap(filepath.Join(chartDir, "values.yaml"))
	expectErr := ""
	args := os.Args[2:]
	for i := 0; i < len(args); i++ {
		if i+1 >= len(args) {
			die("missing argument after %s", args[i])
		}
		switch args[i] {
		case "-f", "--values":
			merge(values, readYAMLMap(args[i+1]))
		case "--set":
			kv := strings.SplitN(args[i+1], "=", 2)
			if len(kv) != 2 {
				die("--set wants key=value, got %q", args[i+1])
			}
			setPath(values, kv[0], kv[1])
		case "--expect-error":
			expectErr = args[i+1]
		default:
			die("unknown argument %s", args[i])
		}
		i++
	}

	chartMeta := readYAMLMap(filepath.Join(chartDir, "Chart.yaml"))
	for _, k := range []string{"apiVersion", "name", "version"} {
		if _, ok := chartMeta[k]; !ok {
			die("Chart.yaml: %s is missing", k)
		}
	}
	chartName := chartMeta["name"].(string)
	chart := map[string]interface{}{}
	for k, v := range chartMeta { // helm exposes Chart.yaml fields capitalised: .Chart.AppVersion
		chart[strings.ToUpper(k[:1])+k[1:]] = v
	}
	basePath := chartName + "/templates"

	files, err := filepath.Glob(filepath.Join(chartDir, "templates", "*"))
	if err != nil {
		die("%v", err)
	}
	sort.Strings(files)

	t := template.New("gotpl").Option("missingkey=zero")
	funcs := sprig.TxtFuncMap()
	delete(funcs, "env")
	delete(funcs, "expandenv")
	funcs["include"] = func(name string, data interface{}) (string, error) {
		var buf bytes.Buffer
		err := t.ExecuteTemplate(&buf, name, data)
		return buf.String(), err
	}
	funcs["tpl"] = func(text string, data interface{}) (string, error) {
		tt, err := t.Clone()
		if err != nil {
			return "", err
		}
		tt, err = tt.New("tpl").Parse(text)
		if err != nil {
			return "", err
		}
		var buf bytes.Buffer
		err = tt.Execute(&buf, data)
		return buf.String(), err
	}
	funcs["required"] = func(msg string, v interface{}) (interface{}, error) {
		if v == nil {
			return nil, fmt.Errorf("%s", msg)
		}
		if s, ok := v.(string); ok && s == "" {
			return nil, fmt.Errorf("%s", msg)
		}
		return v, nil
	}
	funcs["fail"] = func(msg string) (string, error) { return "", fmt.Errorf("%s", msg) }
	funcs["toYaml"] = toYAML
	funcs["fromYaml"] = func(s string) map[string]interface{} {
		var m map[string]interface{}
		if err := yaml.Unmarshal([]byte(s), &m); err != nil {
			return map[string]interface{}{"Error": err.Error()}
		}
		return m
	}
	funcs["toJson"] = func(v interface{}) string { b, _ := json.Marshal(v); return string(b) }
	funcs["lookup"] = func(...interface{}) map[string]interface{} { return map[string]interface{}{} }
	t.Funcs(funcs)

	var names []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			die("%v", err)
		}
		name := basePath + "/" + filepath.Base(f)
		if _, err := t.New(name).Parse(string(b)); err != nil {
			die("parse %s: %v", name, err)
		}
		names = append(names, name)
	}

	release := map[string]interface{}{"Name": "qf", "Namespace": "default", "Service": "Helm",
		"IsInstall": true, "IsUpgrade": false, "Revision": 1}
	capabilities := map[string]interface{}{"KubeVersion": map[string]interface{}{"Version": "v1.30.0", "Major": "1", "Minor": "30"}}

	var out strings.Builder
	docs := 0
	for _, name := range names {
		base := filepath.Base(name)
		if strings.HasPrefix(base, "_") {
			continue
		}
		data := map[string]interface{}{"Values": values, "Chart": chart, "Release": release,
			"Capabilities": capabilities,
			"Template": map[string]interface{}{"Name": name, "BasePath": basePath}}
		var buf bytes.Buffer
		if err := t.ExecuteTemplate(&buf, name, data); err != nil {
			if expectErr != "" {
				if strings.Contains(err.Error(), expectErr) {
					fmt.Printf("expected error: %v\n", err)
					os.Exit(0)
				}
				die("render %s: error %q does not contain %q", name, err, expectErr)
			}
			die("render %s: %v", name, err)
		}
		text := strings.ReplaceAll(buf.String(), "<no value>", "")
		if base == "NOTES.txt" {
			continue
		}
		for _, doc := range strings.Split(text, "\n---") {
			if strings.TrimSpace(doc) == "" {
				continue
			}
			var m map[string]interface{}
			if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
				die("%s: rendered output is not valid YAML: %v\n%s", name, err, doc)
			}
			if m == nil {
				continue
			}
			md, _ := m["metadata"].(map[string]interface{})
			if m["apiVersion"] == nil || m["kind"] == nil || md == nil || md["name"] == nil {
				die("%s: document lacks apiVersion/kind/metadata.name:\n%s", name, doc)
			}
			docs++
			out.WriteString("---\n# Source: " + name + "\n" + strings.TrimLeft(doc, "\n") + "\n")
		}
	}
	if expectErr != "" {
		die("expected an error containing %q, but rendering succeeded", expectErr)
	}
	if docs == 0 {
		die("no manifests rendered")
	}
	fmt.Print(out.String())
}
