/** A bash function that signs and sends a request like Razer Gold does (openssl + curl). */
export function shellClient(baseUrl: string, apiId: string, apiKey: string): string {
  return [
    'razer() { # usage: razer METHOD PATH [BODY]',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: bash parameter expansion, not a template
    '  local m="$1" p="$2" b="${3:-}" sig',
    `  sig=$(printf '%s' "$m$p$b" | openssl dgst -sha256 -hmac '${apiKey}' | sed 's/^.*= //')`,
    `  curl -s -X "$m" "${baseUrl}$p" -H 'content-type: application/json' \\`,
    `    -H "x-razer-signature: $(printf '%s' '${apiId}' | openssl base64 -A):$(printf '%s' "$sig" | openssl base64 -A)" \\`,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: bash parameter expansion, not a template
    '    ${b:+-d "$b"} -w \' (HTTP %{http_code})\\n\'',
    '}',
  ].join('\n');
}
