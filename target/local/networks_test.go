package local

import (
	"encoding/json"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

func TestNetworkCreateOptions(t *testing.T) {
	p := loadCompose(t, `
services:
  a: {image: x, networks: {chaos: {ipv4_address: 172.30.5.10}}}
networks:
  chaos:
    labels: {purpose: partition}
    enable_ipv6: true
    ipam:
      driver: default
      config:
        - subnet: 172.30.0.0/16
          ip_range: 172.30.5.0/24
          gateway: 172.30.5.254
          aux_addresses: {router: 172.30.1.5}
        - subnet: fd00:30::/64
`)
	opts, err := networkCreateOptions("p", "chaos", p.Networks["chaos"])
	if err != nil {
		t.Fatal(err)
	}
	ipam, _ := json.Marshal(opts.IPAM)
	want := `{"Driver":"default","Options":null,"Config":[{"Subnet":"172.30.0.0/16","IPRange":"172.30.5.0/24","Gateway":"172.30.5.254","AuxiliaryAddresses":{"router":"172.30.1.5"}},{"Subnet":"fd00:30::/64"}]}`
	if string(ipam) != want {
		t.Errorf("ipam\n got %s\nwant %s", ipam, want)
	}
	if opts.EnableIPv6 == nil || !*opts.EnableIPv6 {
		t.Error("enable_ipv6 not passed on")
	}
	hash, _ := resourceHash(p.Networks["chaos"])
	for k, v := range map[string]string{labelProject: "p", labelNetwork: "chaos", labelConfigHash: hash, "purpose": "partition"} {
		if opts.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, opts.Labels[k], v)
		}
	}
	changed := p.Networks["chaos"]
	changed.Labels = types.Labels{"purpose": "other"}
	if h, _ := resourceHash(changed); h == hash {
		t.Error("a changed label left the network's hash alone")
	}
}

// resourceHash is docker compose's: the hash of the definition as
// compose-go marshals it, a volume's driver defaulting to local.
func TestResourceHashIsComposes(t *testing.T) {
	a, _ := resourceHash(types.VolumeConfig{Name: "p_data"})
	b, _ := resourceHash(types.VolumeConfig{Name: "p_data", Driver: "local"})
	if a != b || a != sha256Hex([]byte(`{"name":"p_data","driver":"local"}`)) {
		t.Errorf("volume hash %s %s", a, b)
	}
	n, _ := resourceHash(types.NetworkConfig{Name: "p_default"})
	if n != sha256Hex([]byte(`{"name":"p_default","ipam":{}}`)) {
		t.Errorf("network hash %s", n)
	}
}
