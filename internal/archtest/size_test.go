package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// Limits on one production function, so that each can be read at once.
const (
	maxFuncLines      = 80
	maxFuncComplexity = 20
)

// Small functions: no production function is over maxFuncLines lines or
// over maxFuncComplexity in cyclomatic complexity, counted the way gocyclo
// counts it. Tests, fakes, fixtures and load programs are exempt.
func TestFunctionsAreSmall(t *testing.T) {
	root := repoRoot(t)
	fset := token.NewFileSet()
	checked := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if exemptDir(rel, d.Name()) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			checked++
			pos := fset.Position(fn.Pos())
			lines := fset.Position(fn.End()).Line - pos.Line + 1
			if lines > maxFuncLines {
				t.Errorf("%s:%d: %s is %d lines long; the limit is %d", rel, pos.Line, funcName(fn), lines, maxFuncLines)
			}
			if c := complexity(fn); c > maxFuncComplexity {
				t.Errorf("%s:%d: %s has cyclomatic complexity %d; the limit is %d", rel, pos.Line, funcName(fn), c, maxFuncComplexity)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 500 {
		t.Fatalf("checked only %d functions; is the walk skipping the repository?", checked)
	}
}

// exemptDir reports whether a directory holds no production code: test
// support, test data, and hidden or tool directories.
func exemptDir(rel, name string) bool {
	if rel == "." {
		return false
	}
	switch {
	case strings.HasPrefix(name, ".") || name == "testdata" || name == "data":
		return true
	case strings.HasPrefix(rel, "internal/fake"),
		rel == "internal/e2e", rel == "internal/loadtest", rel == "internal/fixtures":
		return true
	}
	return false
}

// complexity is a function's cyclomatic complexity as gocyclo computes
// it: 1, plus one for each if, for, range, non-default case of a switch
// or select, && and ||. Function literals count toward the function that
// holds them.
func complexity(fn *ast.FuncDecl) int {
	c := 1
	ast.Inspect(fn, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.IfStmt, *ast.ForStmt, *ast.RangeStmt:
			c++
		case *ast.CaseClause:
			if n.List != nil {
				c++
			}
		case *ast.CommClause:
			if n.Comm != nil {
				c++
			}
		case *ast.BinaryExpr:
			if n.Op == token.LAND || n.Op == token.LOR {
				c++
			}
		}
		return true
	})
	return c
}

// funcName is a function's name with its receiver type, as in
// "Tree.search".
func funcName(fn *ast.FuncDecl) string {
	if fn.Recv == nil || len(fn.Recv.List) == 0 {
		return fn.Name.Name
	}
	t := fn.Recv.List[0].Type
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	switch x := t.(type) {
	case *ast.IndexExpr:
		t = x.X
	case *ast.IndexListExpr:
		t = x.X
	}
	if id, ok := t.(*ast.Ident); ok {
		return id.Name + "." + fn.Name.Name
	}
	return fn.Name.Name
}

// The measure itself counts what gocyclo counts.
func TestComplexityCounts(t *testing.T) {
	src := `package p
func f(a, b bool, xs []int, ch chan int) {
	if a && b || a {
	}
	for i := 0; i < 1; i++ {
	}
	for range xs {
	}
	switch {
	case a:
	case b:
	default:
	}
	select {
	case <-ch:
	default:
	}
	_ = func() {
		if a {
		}
	}
}
func (r *T[K]) g() {}
`
	f, err := parser.ParseFile(token.NewFileSet(), "p.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	fn := f.Decls[0].(*ast.FuncDecl)
	// 1 + if + && + || + for + range + 2 cases + 1 comm case + the literal's if.
	if got, want := complexity(fn), 10; got != want {
		t.Errorf("complexity = %d, want %d", got, want)
	}
	if got := funcName(f.Decls[1].(*ast.FuncDecl)); got != "T.g" {
		t.Errorf("funcName = %q, want T.g", got)
	}
}
