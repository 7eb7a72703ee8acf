package engine

import (
	"strconv"
	"strings"
	"time"

	"switchboard"
)

// IVR menus. A number can lead to a menu instead of a queue or an agent: the
// engine answers the call, plays the menu's prompt on the caller's leg and
// reads the caller's digits (LegDTMF) against the menu's options, with its
// own clock for the timeout, so that every driver (the simulator, SIP) only
// plays media (PromptMedia) and reports digits, and a run under a virtual clock repeats
// exactly.
//
// While the caller is in a menu the call is CallSelecting, and its IVRMenuID
// names the menu; every prompt played is a "menu" change (call.menu), so a
// call's events show the path: each menu heard, each repeat, and the digits
// (the call's DTMF keeps every digit keyed, as for any call). Leaving a menu
// for a queue or an agent clears IVRMenuID and goes on as a call to that
// queue or agent would. A caller who hangs up in a menu leaves an abandoned
// call whose last event still names the menu; a menu that ends the call
// (a "hangup" action, or repeats run out onto a hangup) leaves a rejected
// one with the cause CauseIVRHangup.

// CauseIVRHangup is the hang-up cause of a call a menu ended.
const CauseIVRHangup = "ended by the IVR menu"

// CauseIVRTarget is the hang-up cause of a call whose menu choice led to a
// queue, agent or menu the engine does not run (removed meanwhile).
const CauseIVRTarget = "the IVR menu's choice leads nowhere"

// CauseIVRLoop is the hang-up cause of a call that heard maxMenuPrompts
// prompts: menus whose timeout actions lead to each other would otherwise
// hold a silent line for ever.
const CauseIVRLoop = "too many IVR prompts"

// maxMenuPrompts bounds the prompts one call hears across all its menus.
const maxMenuPrompts = 50

// promptPrefix starts the media name of an IVR prompt.
const promptPrefix = "prompt:"

// PromptMedia is the media name Play is given for a tenant's IVR prompt:
// "prompt:t<tenant id>-<name>", e.g. "prompt:t7-welcome". Prompts are the
// tenant's own, so the tenant is part of the name: a driver that keeps
// prompts as files by name (the SIP driver's prompts/<name>.wav) keeps each
// tenant's apart without knowing tenants, and plays a generated default when
// the tenant has no recording of that name. Names are validated by
// switchboard.IVRMenu (at most 40 letters, digits, '-', '_', '.'), so the
// whole stays a safe file name of at most 61 characters.
func PromptMedia(tenantID int64, name string) string {
	return promptPrefix + "t" + strconv.FormatInt(tenantID, 10) + "-" + name
}

// ParsePromptMedia reads a media name made by PromptMedia; ok is false for
// any other media (hold music, ringback).
func ParsePromptMedia(media string) (tenantID int64, name string, ok bool) {
	rest, found := strings.CutPrefix(media, promptPrefix+"t")
	if !found {
		return 0, "", false
	}
	t, name, found := strings.Cut(rest, "-")
	if !found || name == "" {
		return 0, "", false
	}
	id, err := strconv.ParseInt(t, 10, 64)
	if err != nil || id <= 0 || t[0] == '+' {
		return 0, "", false
	}
	return id, name, true
}

// SetMenus installs a tenant's IVR menus and the route keys (its numbers)
// that lead to them, replacing every menu and menu route the tenant had. A
// caller already in a menu goes on hearing it as it was when they entered.
func (e *Engine) SetMenus(tenantID int64, menus []switchboard.IVRMenu, routes map[string]int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	byID := make(map[int64]*switchboard.IVRMenu, len(menus))
	for i := range menus {
		m := menus[i]
		m.TenantID = tenantID
		byID[m.ID] = &m
	}
	if len(byID) == 0 {
		delete(e.menus, tenantID)
	} else {
		e.menus[tenantID] = byID
	}
	for r, mr := range e.menuRoutes {
		if mr.tenant == tenantID {
			delete(e.menuRoutes, r)
		}
	}
	for r, id := range routes {
		if _, ok := byID[id]; ok {
			e.menuRoutes[r] = menuRoute{tenant: tenantID, menu: id}
		}
	}
}

// menuRoute is where a route key leads when it leads to a menu.
type menuRoute struct {
	tenant, menu int64
}

// menu finds a tenant's menu.
func (e *Engine) menu(tenantID, id int64) (*switchboard.IVRMenu, bool) {
	m, ok := e.menus[tenantID][id]
	return m, ok
}

// answer answers the caller's leg once, however many steps (a menu, then a
// queue) would.
func (e *Engine) answer(c *call) {
	if !c.answered {
		c.answered = true
		e.opt.Telephony.Answer(c.caller)
	}
}

// enterMenu answers c and plays it menu m from the start.
func (e *Engine) enterMenu(c *call, m *switchboard.IVRMenu) {
	e.answer(c)
	c.menu, c.menuRepeats = m, 0
	id := m.ID
	c.IVRMenuID = &id
	e.playMenu(c)
}

// playMenu plays c's menu prompt and waits for a digit until the menu's
// timeout.
func (e *Engine) playMenu(c *call) {
	c.menuPrompts++
	if c.menuPrompts > maxMenuPrompts {
		e.menuHangup(c, CauseIVRLoop)
		return
	}
	e.opt.Telephony.Play(c.caller, PromptMedia(c.TenantID, c.menu.Prompt))
	id, m := c.ID, c.menu
	c.timer = e.after(time.Duration(m.TimeoutSeconds)*time.Second, func() {
		if c, ok := e.calls[id]; ok && c.menu == m && c.EndedAt == nil {
			c.timer = nil
			e.menuAction(c, m.TimeoutAction)
		}
	})
	e.changed(c, "menu")
}

// menuDigits takes digits the caller keyed while in a menu, one at a time:
// a digit that leads to another menu leaves the rest for that menu (callers
// who know the way type ahead).
func (e *Engine) menuDigits(c *call, digits string) {
	for i := 0; i < len(digits) && c.menu != nil && c.EndedAt == nil; i++ {
		if c.timer != nil {
			c.timer.Stop()
			c.timer = nil
		}
		a, ok := c.menu.Option(digits[i])
		if !ok {
			a = c.menu.InvalidAction
		}
		e.menuAction(c, a)
	}
}

// menuAction does what a's menu says with c.
func (e *Engine) menuAction(c *call, a switchboard.IVRAction) {
	switch a.Action {
	case switchboard.IVRRepeat:
		if c.menuRepeats >= c.menu.MaxRepeats {
			final := c.menu.FinalAction
			if final.Action == switchboard.IVRRepeat { // never stored so; keep the bound anyway
				final = switchboard.IVRAction{Action: switchboard.IVRHangup}
			}
			e.menuAction(c, final)
			return
		}
		c.menuRepeats++
		e.playMenu(c)
	case switchboard.IVRToMenu:
		m, ok := e.menu(c.TenantID, deref(a.MenuID))
		if !ok {
			e.menuHangup(c, CauseIVRTarget)
			return
		}
		e.enterMenu(c, m)
	case switchboard.IVRToQueue:
		q, ok := e.queues[deref(a.QueueID)]
		if !ok || q.cfg.TenantID != c.TenantID {
			e.menuHangup(c, CauseIVRTarget)
			return
		}
		e.leaveMenu(c)
		c.QueueID = &q.cfg.ID
		e.enqueue(c, q)
	case switchboard.IVRToUser:
		ag, ok := e.agents[deref(a.UserID)]
		if !ok || ag.tenant != c.TenantID {
			e.menuHangup(c, CauseIVRTarget)
			return
		}
		e.leaveMenu(c)
		if ag.device == "" || !ag.available || ag.state != agentIdle {
			e.opt.Telephony.Hangup(c.caller, "agent not available")
			e.failBy(c, switchboard.DispositionMissed, switchboard.SideSystem, "the agent is not available")
			return
		}
		e.ringDirect(c, ag, c.caller)
	default: // hangup, and anything a newer build may have stored
		e.menuHangup(c, CauseIVRHangup)
	}
}

// leaveMenu ends c's time in menus: the caller goes on to a queue or agent.
func (e *Engine) leaveMenu(c *call) {
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	c.menu, c.IVRMenuID = nil, nil
}

// menuHangup ends c from its menu.
func (e *Engine) menuHangup(c *call, cause string) {
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	c.menu = nil
	e.failBy(c, switchboard.DispositionRejected, switchboard.SideSystem, cause)
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}
