package sqlmigrate

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"testing"
	"testing/fstest"

	_ "modernc.org/sqlite" // the engine the migrations run on in production
)

func openDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "m.db")+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

func recorded(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

func tables(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name <> 'schema_migrations' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
	}
	return got
}

func TestApply(t *testing.T) {
	ctx := context.Background()
	fsys := fstest.MapFS{
		// Out of order on purpose: the order is the names', lexical.
		"m/0002_b.sql":  {Data: []byte(`CREATE TABLE b (x INTEGER); INSERT INTO a (x) VALUES (2);`)},
		"m/0001_a.sql":  {Data: []byte(`CREATE TABLE a (x INTEGER); INSERT INTO a (x) VALUES (1);`)},
		"m/README.md":   {Data: []byte(`not a migration`)},
		"m/sub/0.sql":   {Data: []byte(`not run: in a subdirectory`)},
		"other/0.sql":   {Data: []byte(`not run: another directory`)},
		"m/0003_c.sql":  {Data: []byte(`ALTER TABLE b ADD COLUMN y TEXT;`)},
		"m/0000_no.txt": {Data: []byte(`not run: not .sql`)},
	}

	t.Run("OK", func(t *testing.T) {
		db := openDB(t)
		ran, err := Apply(ctx, db, fsys, "m")
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"0001_a.sql", "0002_b.sql", "0003_c.sql"}
		if !slices.Equal(ran, want) {
			t.Fatalf("ran = %v, want %v", ran, want)
		}
		if got := recorded(t, db); !slices.Equal(got, want) {
			t.Fatalf("recorded = %v, want %v", got, want)
		}
		var sum int
		if err := db.QueryRow(`SELECT sum(x) FROM a`).Scan(&sum); err != nil || sum != 3 {
			t.Fatalf("sum(a.x) = %d, %v; want 3 (each file ran once, in order)", sum, err)
		}
	})

	t.Run("IdempotentOnReopen", func(t *testing.T) {
		db := openDB(t)
		if _, err := Apply(ctx, db, fsys, "m"); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			ran, err := Apply(ctx, db, fsys, "m")
			if err != nil || len(ran) != 0 {
				t.Fatalf("second Apply ran %v, %v; want nothing", ran, err)
			}
		}
		var sum int
		if err := db.QueryRow(`SELECT sum(x) FROM a`).Scan(&sum); err != nil || sum != 3 {
			t.Fatalf("sum(a.x) = %d, %v; want 3", sum, err)
		}
	})

	t.Run("NewFileLater", func(t *testing.T) {
		db := openDB(t)
		first := fstest.MapFS{"m/0001_a.sql": fsys["m/0001_a.sql"]}
		if _, err := Apply(ctx, db, first, "m"); err != nil {
			t.Fatal(err)
		}
		ran, err := Apply(ctx, db, fsys, "m")
		if want := []string{"0002_b.sql", "0003_c.sql"}; err != nil || !slices.Equal(ran, want) {
			t.Fatalf("ran = %v, %v; want %v", ran, err, want)
		}
	})

	t.Run("ErrFailedFileRollsBackAndStops", func(t *testing.T) {
		db := openDB(t)
		bad := fstest.MapFS{
			"m/0001_a.sql": fsys["m/0001_a.sql"],
			"m/0002_bad.sql": {Data: []byte(`CREATE TABLE half (x INTEGER);
				INSERT INTO no_such_table VALUES (1);`)},
			"m/0003_c.sql": {Data: []byte(`CREATE TABLE c (x INTEGER);`)},
		}
		ran, err := Apply(ctx, db, bad, "m")
		if err == nil {
			t.Fatal("Apply with a failing file succeeded")
		}
		if want := []string{"0001_a.sql"}; !slices.Equal(ran, want) {
			t.Fatalf("ran = %v, want %v", ran, want)
		}
		if got, want := recorded(t, db), []string{"0001_a.sql"}; !slices.Equal(got, want) {
			t.Fatalf("recorded = %v, want %v", got, want)
		}
		if got, want := tables(t, db), []string{"a"}; !slices.Equal(got, want) {
			t.Fatalf("tables = %v, want %v (the failed file left nothing, the next did not run)", got, want)
		}
	})

	t.Run("ErrMissingDir", func(t *testing.T) {
		if _, err := Apply(ctx, openDB(t), fsys, "nope"); err == nil {
			t.Fatal("Apply of a missing directory succeeded")
		}
	})
}
