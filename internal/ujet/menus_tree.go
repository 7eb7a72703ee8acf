package ujet

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"switchboard"
)

// UJET's menus are one tree of nodes; Switchboard has two kinds of node, IVR
// menus and queues (which nest by ParentID). A menu id tells them apart by
// parity: queue q is menu 2·q, IVR menu m is menu 2·m+1. Ids stay stable as
// objects come and go, and a client can send any menu id it was shown.

// The menu types UJET names.
const (
	menuIVR    = "ivr_menu"
	menuMobile = "mobile_menu"
	menuWeb    = "web_menu"
)

// queueMenuID and ivrMenuID are the menu ids of a queue and an IVR menu.
func queueMenuID(queueID int64) int64 { return 2 * queueID }
func ivrMenuID(menuID int64) int64    { return 2*menuID + 1 }

// menuNode is one node of a tenant's menu tree as the dialect shows it.
type menuNode struct {
	ID       int64
	Name     string
	ParentID *int64
	// Position orders siblings: an IVR option's digit order, else by id.
	Position int
	Type     string
	Lang     string
	// OutputMsg is what the caller hears on choosing the node.
	OutputMsg string
	Queue     *switchboard.Queue   // set for queues
	IVR       *switchboard.IVRMenu // set for IVR menus
	// Children are the ids of the node's children, in Position order.
	Children []int64
}

// Leaf says the node is a queue no other queue nests under: where calls and
// chats wait for agents.
func (n *menuNode) Leaf() bool { return n.Queue != nil && len(n.Children) == 0 }

// menuTree is a tenant's menus, read once per request.
type menuTree struct {
	nodes map[int64]*menuNode
	// order lists the ids depth-first from the roots, siblings by Position.
	order []int64
}

// menuType is the type a queue is shown as: its MenuType when set, else a
// chat queue is a web menu and a voice queue an IVR menu.
func menuType(q *switchboard.Queue) string {
	if q.MenuType != "" {
		return q.MenuType
	}
	if q.Channel == switchboard.ChannelChat {
		return menuWeb
	}
	return menuIVR
}

// loadMenus reads the tenant's queues and IVR menus and links them into a
// tree: a queue's parent is its ParentID queue, else the first IVR menu
// whose option leads to it; an IVR menu's parent is the first IVR menu
// leading to it; a node without one is a root.
func loadMenus(ctx context.Context, st switchboard.Store, tenantID int64) (*menuTree, error) {
	queues, err := switchboard.All(ctx, st.Queues, tenantID)
	if err != nil {
		return nil, err
	}
	ivrs, err := switchboard.All(ctx, st.IVRMenus, tenantID)
	if err != nil {
		return nil, err
	}
	t := &menuTree{nodes: make(map[int64]*menuNode, len(queues)+len(ivrs))}
	for i := range ivrs {
		m := &ivrs[i]
		t.nodes[ivrMenuID(m.ID)] = &menuNode{ID: ivrMenuID(m.ID), Name: m.Name, Type: menuIVR, IVR: m, OutputMsg: m.Prompt, Position: int(m.ID)}
	}
	for i := range queues {
		q := &queues[i]
		t.nodes[queueMenuID(q.ID)] = &menuNode{ID: queueMenuID(q.ID), Name: q.Name, Type: menuType(q), Lang: q.Language,
			Queue: q, OutputMsg: "You selected " + q.Name + ".", Position: int(q.ID)}
	}
	setParent := func(child, parent int64, pos int) {
		n, p := t.nodes[child], t.nodes[parent]
		if n == nil || p == nil || n.ParentID != nil || child == parent {
			return
		}
		n.ParentID = &p.ID
		n.Position = pos
	}
	for i := range queues {
		if q := &queues[i]; q.ParentID != nil {
			setParent(queueMenuID(q.ID), queueMenuID(*q.ParentID), int(q.ID))
		}
	}
	for i := range ivrs {
		m := &ivrs[i]
		for pos, o := range m.Options {
			switch {
			case o.Action == switchboard.IVRToQueue && o.QueueID != nil:
				setParent(queueMenuID(*o.QueueID), ivrMenuID(m.ID), pos+1)
			case o.Action == switchboard.IVRToMenu && o.MenuID != nil:
				setParent(ivrMenuID(*o.MenuID), ivrMenuID(m.ID), pos+1)
			}
		}
	}
	// A cycle of IVR menus has no root: break it at its lowest id.
	for _, n := range t.nodes {
		seen := map[int64]bool{}
		for cur := n; cur != nil && cur.ParentID != nil; cur = t.nodes[*cur.ParentID] {
			if seen[cur.ID] {
				cur.ParentID = nil
				break
			}
			seen[cur.ID] = true
		}
	}
	var roots []int64
	for id, n := range t.nodes {
		if n.ParentID == nil {
			roots = append(roots, id)
		} else {
			p := t.nodes[*n.ParentID]
			p.Children = append(p.Children, id)
		}
	}
	byPos := func(ids []int64) {
		slices.SortFunc(ids, func(a, b int64) int {
			na, nb := t.nodes[a], t.nodes[b]
			if na.Position != nb.Position {
				return na.Position - nb.Position
			}
			return int(a - b)
		})
	}
	byPos(roots)
	var walk func(id int64)
	walk = func(id int64) {
		t.order = append(t.order, id)
		n := t.nodes[id]
		byPos(n.Children)
		for _, c := range n.Children {
			walk(c)
		}
	}
	for _, r := range roots {
		walk(r)
	}
	// An IVR menu takes the language of the first queue under it.
	for i := len(t.order) - 1; i >= 0; i-- {
		n := t.nodes[t.order[i]]
		if n.Lang == "" && n.ParentID == nil || n.IVR != nil {
			for _, c := range n.Children {
				if l := t.nodes[c].Lang; l != "" {
					n.Lang = l
					break
				}
			}
		}
	}
	return t, nil
}

// node finds a menu by id (nil when there is none).
func (t *menuTree) node(id int64) *menuNode { return t.nodes[id] }

// queueNode is the node of a queue (nil when the tree has none).
func (t *menuTree) queueNode(queueID int64) *menuNode { return t.nodes[queueMenuID(queueID)] }

// path lists the nodes from the root down to id.
func (t *menuTree) path(id int64) []*menuNode {
	var out []*menuNode
	for n := t.nodes[id]; n != nil; {
		out = append(out, n)
		if n.ParentID == nil {
			break
		}
		n = t.nodes[*n.ParentID]
	}
	slices.Reverse(out)
	return out
}

// namePath is the human materialized path wait times and queue status show:
// the names from the root, joined by " / ".
func (t *menuTree) namePath(id int64) string {
	var names []string
	for _, n := range t.path(id) {
		names = append(names, n.Name)
	}
	return strings.Join(names, " / ")
}

// idPath is the materialized path the call object's menu_path shows: the
// ids from the root, joined by "/".
func (t *menuTree) idPath(id int64) string {
	var ids []string
	for _, n := range t.path(id) {
		ids = append(ids, strconv.FormatInt(n.ID, 10))
	}
	return strings.Join(ids, "/")
}

// subtree lists id and every node under it, depth-first.
func (t *menuTree) subtree(id int64) []*menuNode {
	n := t.nodes[id]
	if n == nil {
		return nil
	}
	out := []*menuNode{n}
	for _, c := range n.Children {
		out = append(out, t.subtree(c)...)
	}
	return out
}

// all lists every node depth-first from the roots.
func (t *menuTree) all() []*menuNode {
	out := make([]*menuNode, len(t.order))
	for i, id := range t.order {
		out[i] = t.nodes[id]
	}
	return out
}

// SelectedMenu is the call and chat objects' selected_menu.
type SelectedMenu struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	ParentID  *int64 `json:"parent_id"`
	Position  int    `json:"position"`
	Deleted   bool   `json:"deleted"`
	Hidden    string `json:"hidden"`
	MenuType  string `json:"menu_type"`
	OutputMsg string `json:"output_msg"`
}

// MenuPath is the call and chat objects' menu_path (and a transfer's
// from_menu / to_menu).
type MenuPath struct {
	ItemsCount       int    `json:"items_count"`
	Name             string `json:"name"`
	MaterializedPath string `json:"materialized_path"`
}

// selectedMenu renders node id; nil when the tree has no such node.
func (t *menuTree) selectedMenu(id int64) *SelectedMenu {
	n := t.nodes[id]
	if n == nil {
		return nil
	}
	return &SelectedMenu{ID: n.ID, Name: n.Name, ParentID: n.ParentID, Position: n.Position, Hidden: "false",
		MenuType: n.Type, OutputMsg: n.OutputMsg}
}

// menuPath renders the path to node id; nil when the tree has no such node.
func (t *menuTree) menuPath(id int64) *MenuPath {
	p := t.path(id)
	if len(p) == 0 {
		return nil
	}
	return &MenuPath{ItemsCount: len(p), Name: p[len(p)-1].Name, MaterializedPath: t.idPath(id)}
}
