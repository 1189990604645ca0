import neostandard from 'neostandard'

export default [
  ...neostandard({ ts: true, ignores: ['dist/**', 'node_modules/**', 'test-results/**', 'data/**', 'bench/results/**'] }),
  {
    // @kitajs/html renders to strings: there is no reconciliation, so list keys mean nothing.
    rules: { 'react/jsx-key': 'off' }
  }
]
