// The admin API listens on 127.0.0.1:9091 unless a config says otherwise; tests run
// many gateways at once, so their configs get an admin listener on a free port instead.

/** `yaml` with `admin: { address: 127.0.0.1:0 }` appended when it has no `admin:` block. */
export function withTestAdmin(yaml: string): string {
  return /^admin:/m.test(yaml) ? yaml : `${yaml}${yaml.endsWith('\n') ? '' : '\n'}admin:\n  address: "127.0.0.1:0"\n`;
}
