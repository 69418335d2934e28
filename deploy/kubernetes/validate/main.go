// Command validate decodes exit137's Kubernetes manifests strictly into the Kubernetes API
// types, the way an API server with strict field validation would: a misspelt or unknown
// field, a field in the wrong case, a duplicate key or a value of the wrong type is an error,
// where a plain `kubectl apply` would drop the field and carry on.
//
//	validate files DIR   every YAML document under DIR (kustomizations, components and patches too)
//	validate build DIR   kustomize DIR (a kustomization) and decode what it renders; prints it as JSON
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	sjson "sigs.k8s.io/json"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// The API groups the manifests may use; any other kind is an error (a misspelt kind included).
func newScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, appsv1.AddToScheme, policyv1.AddToScheme, batchv1.AddToScheme, rbacv1.AddToScheme} {
		if err := add(s); err != nil {
			panic(err)
		}
	}
	return s
}

var decoder = serializer.NewCodecFactory(newScheme(), serializer.EnableStrict).UniversalDeserializer()

type typeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

// decodeStrict decodes one YAML document into its API type and says what it was.
func decodeStrict(doc []byte) (string, error) {
	var tm typeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return "", err
	}
	if strings.HasPrefix(tm.APIVersion, "kustomize.config.k8s.io/") {
		return tm.Kind, decodeKustomization(doc)
	}
	obj, gvk, err := decoder.Decode(doc, nil, nil)
	if err != nil {
		return "", err
	}
	name := ""
	if m, ok := obj.(interface{ GetName() string }); ok {
		name = m.GetName()
	}
	return gvk.Kind + "/" + name, nil
}

// Kustomizations and components have no API server; kustomize's own type, decoded as strictly
// (case-sensitive, unknown and duplicate fields refused), stands in for one.
func decodeKustomization(doc []byte) error {
	js, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return err
	}
	var k types.Kustomization
	strict, err := sjson.UnmarshalStrict(js, &k, sjson.DisallowUnknownFields)
	if err != nil {
		return err
	}
	return errors.Join(strict...)
}

func documents(r io.Reader) ([][]byte, error) {
	var docs [][]byte
	rd := utilyaml.NewYAMLReader(bufio.NewReader(r))
	for {
		d, err := rd.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(stripComments(d))) > 0 {
			docs = append(docs, d)
		}
	}
}

func stripComments(d []byte) []byte {
	var out []byte
	for _, l := range bytes.Split(d, []byte("\n")) {
		if !bytes.HasPrefix(bytes.TrimSpace(l), []byte("#")) {
			out = append(append(out, l...), '\n')
		}
	}
	return out
}

func checkFiles(root string) error {
	var failed []error
	n := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "validate" {
			return filepath.SkipDir
		}
		if d.IsDir() || !(strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		docs, err := documents(f)
		if err != nil {
			failed = append(failed, fmt.Errorf("%s: %w", path, err))
			return nil
		}
		for i, doc := range docs {
			what, err := decodeStrict(doc)
			if err != nil {
				failed = append(failed, fmt.Errorf("%s (document %d): %w", path, i+1, err))
				continue
			}
			n++
			fmt.Fprintf(os.Stderr, "ok %s %s\n", path, what)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if n == 0 && len(failed) == 0 {
		return fmt.Errorf("no manifests under %s", root)
	}
	return errors.Join(failed...)
}

func build(dir string) error {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return err
	}
	var failed []error
	items := []map[string]any{}
	for _, r := range m.Resources() {
		doc, err := r.AsYAML()
		if err != nil {
			return err
		}
		if _, err := decodeStrict(doc); err != nil {
			failed = append(failed, fmt.Errorf("%s %s: %w", r.GetKind(), r.GetName(), err))
		}
		obj, err := r.Map()
		if err != nil {
			return err
		}
		items = append(items, obj)
	}
	if err := errors.Join(failed...); err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{"items": items})
}

func main() {
	if len(os.Args) != 3 || (os.Args[1] != "files" && os.Args[1] != "build") {
		fmt.Fprintln(os.Stderr, "usage: validate files DIR | validate build DIR")
		os.Exit(2)
	}
	var err error
	if os.Args[1] == "files" {
		err = checkFiles(os.Args[2])
	} else {
		err = build(os.Args[2])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
