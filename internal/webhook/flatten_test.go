package webhook

import (
	"net/url"
	"testing"
)

func TestFlatten(t *testing.T) {
	q := url.Values{}
	if err := flatten(q, "", []byte(`{"event_name":"SMS_RECEIVED","account_id":"12345","timestamp":1704067200,"metadata":{"from_number":"+15551234567","n":null,"tags":["a","b"]}}`)); err != nil {
		t.Fatal(err)
	}
	want := "account_id=12345&event_name=SMS_RECEIVED&metadata%5Bfrom_number%5D=%2B15551234567&metadata%5Bn%5D=&metadata%5Btags%5D%5B%5D=a&metadata%5Btags%5D%5B%5D=b&timestamp=1704067200"
	if got := q.Encode(); got != want {
		t.Errorf("flatten = %s\nwant     %s", got, want)
	}
}
