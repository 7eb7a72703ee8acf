package ujet

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"switchboard"
)

var p7ContactListTypes = map[string]string{"id": "number", "list_type": "string", "name": "string", "description": "string",
	"user_id": "number|null", "entries_count": "number", "editable": "boolean", "created_at": "string", "updated_at": "string"}

var p7ContactEntryTypes = map[string]string{"id": "number", "contact_list_id": "number", "name": "string", "company": "string",
	"email": "string", "phone_numbers": "array", "notes": "string", "created_at": "string", "updated_at": "string"}

// TestP7ContactLists runs the seed's contact-list operations: custom lists
// created, edited and deleted; entries of custom and global lists added,
// edited and deleted; agents' personal and favorite lists shown but
// refused to writes; another tenant's lists unseen.
func TestP7ContactLists(t *testing.T) {
	p7Engines(t, func(t *testing.T, r *p7Rig) {
		ctx := context.Background()
		const all, read = switchboard.ScopeAll, switchboard.ScopeContactsRead
		ann, err := r.db.CreateUser(ctx, r.tenant.ID, switchboard.User{Email: "ann@acme.test", FirstName: "Ann"})
		if err != nil {
			t.Fatal(err)
		}
		fav, err := r.db.EnsurePhonebook(ctx, r.tenant.ID, switchboard.PhonebookFavorite, &ann.ID)
		if err != nil {
			t.Fatal(err)
		}

		// The global list exists from the first read.
		lists := r.do("GET", "contact_lists", read, nil).want(t, 200, "")
		var got []map[string]any
		lists.json(t, &got)
		if len(got) != 2 || lists.header.Get("Total") != "2" || lists.header.Get("Per-Page") != "100" {
			t.Fatalf("lists %s (Total %q)", lists.body, lists.header.Get("Total"))
		}
		var global map[string]any
		for _, l := range got {
			p7WantTypes(t, "listed contact list", l, p7ContactListTypes)
			switch l["list_type"] {
			case "global":
				global = l
				if l["editable"] != true || l["user_id"] != nil {
					t.Errorf("global list %v", l)
				}
			case "favorite":
				if l["editable"] != false || l["user_id"] != float64(ann.ID) {
					t.Errorf("favorite list %v", l)
				}
			default:
				t.Errorf("unexpected list %v", l)
			}
		}
		if global == nil {
			t.Fatal("no global list")
		}
		globalID := int64(global["id"].(float64))
		only := r.do("GET", "contact_lists?list_type[]=favorite", read, nil).want(t, 200, "")
		var favorites []map[string]any
		only.json(t, &favorites)
		if len(favorites) != 1 || favorites[0]["list_type"] != "favorite" || favorites[0]["user_id"] != float64(ann.ID) {
			t.Fatalf("favorite only: %s", only.body)
		}
		r.do("GET", "contact_lists?list_type[]=team", read, nil).want(t, 400, "list_type must be personal, favorite, global or custom")
		// Asking for an agent's lists makes their personal list (the
		// favorite one exists): the company's and the agent's, no other's.
		bob, err := r.db.CreateUser(ctx, r.tenant.ID, switchboard.User{Email: "bob@acme.test", FirstName: "Bob"})
		if err != nil {
			t.Fatal(err)
		}
		var mine []map[string]any
		r.do("GET", fmt.Sprintf("contact_lists?user_id=%d", ann.ID), read, nil).want(t, 200, "").json(t, &mine)
		if len(mine) != 3 || mine[0]["list_type"] != "favorite" || mine[1]["list_type"] != "global" || mine[2]["list_type"] != "personal" ||
			mine[2]["user_id"] != float64(ann.ID) {
			t.Fatalf("ann's lists %v", mine)
		}
		r.do("GET", fmt.Sprintf("contact_lists?user_id=%d", bob.ID), read, nil).want(t, 200, "").json(t, &mine)
		if len(mine) != 3 || mine[0]["list_type"] != "global" || mine[1]["user_id"] != float64(bob.ID) || mine[2]["user_id"] != float64(bob.ID) {
			t.Fatalf("bob's lists %v", mine)
		}
		r.do("GET", "contact_lists?user_id=999999", read, nil).want(t, 400, "user_id 999999 is not found")

		// Custom lists: create, refuse other kinds and duplicates, edit.
		created := r.do("POST", "contact_lists", all, `{"name":"Vendors","description":"suppliers"}`).want(t, 201, "").object(t)
		p7WantTypes(t, "created contact list", created, p7ContactListTypes)
		if created["list_type"] != "custom" || created["name"] != "Vendors" || created["description"] != "suppliers" ||
			created["entries_count"] != float64(0) || !strings.HasSuffix(created["created_at"].(string), "Z") {
			t.Fatalf("created %v", created)
		}
		vendors := int64(created["id"].(float64))
		r.do("POST", "contact_lists", all, `{"name":"Mine","list_type":"personal"}`).want(t, 400, textOnlyCustom)
		r.do("POST", "contact_lists", all, `{"description":"x"}`).want(t, 400, "param is missing or the value is empty: name")
		r.do("POST", "contact_lists", all, `{"name":"Vendors"}`).want(t, 400, "")
		r.do("POST", "contact_lists", read, `{"name":"Other"}`).want(t, 403, "")
		edited := r.do("PATCH", fmt.Sprintf("contact_lists/%d", vendors), all, `{"name":"Suppliers"}`).want(t, 200, "").object(t)
		if edited["name"] != "Suppliers" || edited["description"] != "suppliers" {
			t.Fatalf("edited %v", edited)
		}
		r.do("PATCH", fmt.Sprintf("contact_lists/%d", globalID), all, `{"name":"Everyone"}`).want(t, 400, textOnlyCustom)
		r.do("DELETE", fmt.Sprintf("contact_lists/%d", fav.ID), all, nil).want(t, 400, textOnlyCustom)
		r.do("GET", fmt.Sprintf("contact_lists/%d", vendors), read, nil).want(t, 200, "")
		r.do("GET", "contact_lists/999999", read, nil).want(t, 404, textNotFound)
		r.send("GET", fmt.Sprintf("contact_lists/%d", vendors), "rival", r.otherKey, "", nil).want(t, 404, textNotFound)

		// Entries of custom and global lists.
		entry := r.do("POST", fmt.Sprintf("contact_lists/%d/entries", vendors), all,
			`{"name":"Acme Support","company":"Acme","email":"Help@Acme.test","notes":"24/7",
			  "phone_numbers":["+1 415 555 0100",{"label":"mobile","number":"393471234567"}]}`).want(t, 201, "").object(t)
		p7WantTypes(t, "created entry", entry, p7ContactEntryTypes)
		nums := entry["phone_numbers"].([]any)
		if entry["email"] != "help@acme.test" || len(nums) != 2 || entry["contact_list_id"] != float64(vendors) {
			t.Fatalf("entry %v", entry)
		}
		first, second := nums[0].(map[string]any), nums[1].(map[string]any)
		p7WantTypes(t, "entry number", first, map[string]string{"label": "string", "number": "string"})
		if first["number"] != "+14155550100" || second["number"] != "+393471234567" || second["label"] != "mobile" {
			t.Fatalf("numbers %v", nums)
		}
		contactEntryID := int64(entry["id"].(float64))
		r.do("POST", fmt.Sprintf("contact_lists/%d/entries", globalID), all, `{"name":"Front desk","phone_number":"+442071234567"}`).want(t, 201, "")
		r.do("POST", fmt.Sprintf("contact_lists/%d/entries", fav.ID), all, `{"name":"X","phone_number":"+442071234567"}`).
			want(t, 400, "Favorite contact lists are managed by their agent and are read-only through the API")
		r.do("POST", fmt.Sprintf("contact_lists/%d/entries", vendors), all, `{"name":"Bad","phone_number":"not a number"}`).
			want(t, 400, `phone number "not a number" is invalid`)
		r.do("POST", fmt.Sprintf("contact_lists/%d/entries", vendors), all, `{"phone_number":"+442071234567"}`).
			want(t, 400, "param is missing or the value is empty: name")
		r.do("POST", fmt.Sprintf("contact_lists/%d/entries", vendors), all, `{"name":"Nobody"}`).want(t, 400, "")

		patched := r.do("PATCH", fmt.Sprintf("contact_lists/%d/entries/%d", vendors, contactEntryID), all, `{"notes":"weekdays"}`).want(t, 200, "").object(t)
		if patched["notes"] != "weekdays" || len(patched["phone_numbers"].([]any)) != 2 || patched["company"] != "Acme" {
			t.Fatalf("a PATCH of notes changed more: %v", patched)
		}
		// An entry left with no way to reach the contact is refused, unchanged.
		r.do("PATCH", fmt.Sprintf("contact_lists/%d/entries/%d", vendors, contactEntryID), all, `{"phone_numbers":[],"email":""}`).want(t, 400, "")
		patched = r.do("PATCH", fmt.Sprintf("contact_lists/%d/entries/%d", vendors, contactEntryID), all, `{"phone_number":"+14155550199"}`).want(t, 200, "").object(t)
		if n := patched["phone_numbers"].([]any); len(n) != 1 || n[0].(map[string]any)["number"] != "+14155550199" {
			t.Fatalf("numbers replaced: %v", patched)
		}
		r.do("PATCH", fmt.Sprintf("contact_lists/%d/entries/%d", globalID, contactEntryID), all, `{"notes":"x"}`).want(t, 404, textNotFound)

		page := r.do("GET", fmt.Sprintf("contact_lists/%d/entries?per=1", globalID), read, nil).want(t, 200, "")
		var listed []map[string]any
		page.json(t, &listed)
		if len(listed) != 1 || page.header.Get("Total") != "1" || !strings.Contains(page.header.Get("Link"), `rel="last"`) {
			t.Fatalf("global entries %s %v", page.body, page.header)
		}
		p7WantTypes(t, "listed entry", listed[0], p7ContactEntryTypes)
		if l := r.do("GET", fmt.Sprintf("contact_lists/%d", vendors), read, nil).object(t); l["entries_count"] != float64(1) {
			t.Fatalf("entries_count %v", l)
		}

		r.do("DELETE", fmt.Sprintf("contact_lists/%d/entries/%d", vendors, contactEntryID), all, nil).want(t, 200, "")
		r.do("DELETE", fmt.Sprintf("contact_lists/%d/entries/%d", vendors, contactEntryID), all, nil).want(t, 404, textNotFound)
		r.do("DELETE", fmt.Sprintf("contact_lists/%d", vendors), all, nil).want(t, 200, "")
		r.do("GET", fmt.Sprintf("contact_lists/%d", vendors), read, nil).want(t, 404, textNotFound)
		r.do("GET", fmt.Sprintf("contact_lists/%d/entries", vendors), read, nil).want(t, 404, textNotFound)
	})
}
