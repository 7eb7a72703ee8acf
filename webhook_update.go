package switchboard

import (
	"maps"
	"reflect"
	"slices"
)

// ApplyChanges copies onto w each setting that after changed from before: a
// three-way merge for an update that was computed (and checked) from an
// earlier read, applied to the subscription as it is now. Settings the update
// left alone keep w's current values, so a concurrent change of them is not
// undone; settings it changed take its values, which are the ones checked.
// Statistics and secrets are the store's and are not touched.
func (w *Webhook) ApplyChanges(before, after Webhook) {
	set := func(dst, b, a any) {
		if !reflect.DeepEqual(b, a) {
			reflect.ValueOf(dst).Elem().Set(reflect.ValueOf(a))
		}
	}
	set(&w.Name, before.Name, after.Name)
	set(&w.URL, before.URL, after.URL)
	set(&w.Method, before.Method, after.Method)
	set(&w.Dialect, before.Dialect, after.Dialect)
	set(&w.EventTypes, before.EventTypes, after.EventTypes)
	set(&w.DialectTypes, before.DialectTypes, after.DialectTypes)
	set(&w.DelaySeconds, before.DelaySeconds, after.DelaySeconds)
	set(&w.MaxAttempts, before.MaxAttempts, after.MaxAttempts)
	set(&w.InactiveAfterFailures, before.InactiveAfterFailures, after.InactiveAfterFailures)
	set(&w.NotifyEmail, before.NotifyEmail, after.NotifyEmail)
	set(&w.Headers, before.Headers, after.Headers)
	set(&w.Enabled, before.Enabled, after.Enabled)
}

// Clone returns a copy of w that shares no slice or map with it, so that
// changing one leaves the other as it was.
func (w Webhook) Clone() Webhook {
	w.EventTypes, w.DialectTypes, w.Headers = slices.Clone(w.EventTypes), slices.Clone(w.DialectTypes), maps.Clone(w.Headers)
	w.InactiveEventTypes = slices.Clone(w.InactiveEventTypes)
	return w
}
