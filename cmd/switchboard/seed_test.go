package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"switchboard"
	"switchboard/internal/callseed"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// TestSeedCalls seeds a small history on each engine and reads it back
// through the native API: every ended call is a record, the total is the
// counter's, and a customer's number finds its calls whole and in part.
func TestSeedCalls(t *testing.T) {
	for name, mk := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			db := mk(t)
			out, errOut, code := runCLI(t, "seed-calls", "--db", db, "--rows", "3000", "--days", "10",
				"--agents", "3", "--queues", "2", "--end", "2026-12-01T00:00:00Z")
			if code != 0 {
				t.Fatalf("seed-calls: exit %d, %s", code, errOut)
			}
			var sum struct {
				Rows      int   `json:"rows"`
				Customers int   `json:"customers"`
				TenantID  int64 `json:"tenant_id"`
			}
			if err := json.Unmarshal([]byte(out), &sum); err != nil || sum.Rows != 3000 || sum.Customers != 75 {
				t.Fatalf("summary %q: %+v, %v", out, sum, err)
			}
			if !strings.Contains(errOut, "3000/3000 calls") {
				t.Errorf("no progress on stderr: %q", errOut)
			}
			// A second seeding adds to the same tenant, reusing its agents.
			if _, errOut, code := runCLI(t, "seed-calls", "--db", db, "--rows", "500", "--days", "10", "--agents", "3",
				"--queues", "2", "--seed", "2"); code != 0 {
				t.Fatalf("second seed-calls: exit %d, %s", code, errOut)
			}
			m, base, _ := startServer(t, "--db", db)
			ctx := t.Context()
			key, err := m.store.CreateAPIKey(ctx, sum.TenantID, switchboard.APIKey{Name: "test"})
			if err != nil {
				t.Fatal(err)
			}
			users, _ := m.store.Users(ctx, sum.TenantID, switchboard.UserFilter{}, switchboard.ListOptions{})
			if len(users.Items) != 3 {
				t.Errorf("%d seed agents, want 3", len(users.Items))
			}
			c := client{t: t, base: base, key: key.Secret}
			status, body := c.do("GET", "/v1/cdrs?include_open=true&limit=1", nil)
			if total := body["metadata"].(map[string]any)["total"].(float64); status != 200 || total != 3500 {
				t.Fatalf("GET /v1/cdrs?include_open=true: %d, total %v, want 3500", status, total)
			}
			status, body = c.do("GET", "/v1/cdrs?limit=1000", nil)
			ended := int(body["metadata"].(map[string]any)["total"].(float64))
			if status != 200 || ended < 3400 || ended > 3500 {
				t.Fatalf("GET /v1/cdrs: %d, total %d", status, ended)
			}
			number := callseed.Customer(7)
			status, body = c.do("GET", "/v1/cdrs?include_open=true&limit=1000&number_contains="+number[2:], nil)
			items := body["items"].([]any)
			if status != 200 || len(items) == 0 {
				t.Fatalf("calls of %s: %d, %d items", number, status, len(items))
			}
			for _, it := range items {
				r := it.(map[string]any)
				if r["from"] != number && r["to"] != number {
					t.Errorf("record %v is not a call of %s", r["id"], number)
				}
			}
			status, body = c.do("GET", fmt.Sprintf("/v1/cdrs?include_open=true&limit=1000&number_contains=%s", number[5:8]), nil)
			if status != 200 || len(body["items"].([]any)) < len(items) {
				t.Errorf("three digits of %s find %d records, fewer than the whole number's %d", number, len(body["items"].([]any)), len(items))
			}
		})
	}
}
