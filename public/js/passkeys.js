/*
 * Passkeys in the browser: the WebAuthn ceremonies of the login page and the account page, with
 * @simplewebauthn/browser (its bundle, served by the app). Options come from the server, the answer goes
 * back to it with the page's form token in the x-csrf-token header; the server checks everything. The
 * buttons stay hidden until this script finds WebAuthn available, so without it every form still works.
 */
import '/static/vendor/simplewebauthn/index.umd.min.js'

const { browserSupportsWebAuthn, browserSupportsWebAuthnAutofill, startAuthentication, startRegistration } = globalThis.SimpleWebAuthnBrowser

const CANCELLED = 'The passkey request was cancelled or timed out. Please try again.'
const UNREACHABLE = 'The site could not be reached. Please try again.'

class Refusal extends Error {}

async function postJson (url, csrf, body) {
  let response
  try {
    response = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': csrf },
      body: JSON.stringify(body)
    })
  } catch {
    throw new Refusal(UNREACHABLE)
  }
  const data = await response.json().catch(() => ({}))
  if (!response.ok) throw new Refusal(typeof data.error === 'string' ? data.error : UNREACHABLE)
  return data
}

function messageFor (error) {
  return error instanceof Refusal ? error.message : CANCELLED
}

function isAbort (error) {
  return error?.name === 'AbortError' || error?.code === 'ERROR_CEREMONY_ABORTED'
}

/** Shows the button and hides the "needs JavaScript" line of a passkey block. */
function reveal (root) {
  root.querySelector('[data-passkey-needs-script]').hidden = true
  const button = root.querySelector('[data-passkey-button]')
  button.hidden = false
  return button
}

function setUpLogin (root) {
  const status = root.querySelector('[data-passkey-status]')
  const { csrf, next } = root.dataset
  const remember = () => document.getElementById('field-remember')?.checked === true
  const finish = async (response) => {
    const result = await postJson('/passkeys/login/verify', csrf, { response, next, remember: remember() })
    window.location.assign(result.redirect)
  }
  const button = reveal(root)

  // Conditional mediation: passkeys offered in the email field's autofill, asked for when the field first
  // gets the focus (a page view that never uses the form costs the server nothing). A click waits for that
  // request first, so that its own challenge (the cookie the server reads) is always the later one.
  let autofill = Promise.resolve()
  const email = document.getElementById('field-email')
  email?.addEventListener('focus', () => {
    autofill = (async () => {
      if (!await browserSupportsWebAuthnAutofill()) return
      const options = await postJson('/passkeys/login/options', csrf, {})
      startAuthentication({ optionsJSON: options, useBrowserAutofill: true }).then(finish).catch((error) => {
        if (!isAbort(error)) status.textContent = messageFor(error)
      })
    })().catch(() => {})
  }, { once: true })

  button.addEventListener('click', async () => {
    button.disabled = true
    status.textContent = 'Waiting for your passkey…'
    try {
      await autofill
      const options = await postJson('/passkeys/login/options', csrf, {})
      await finish(await startAuthentication({ optionsJSON: options }))
    } catch (error) {
      status.textContent = messageFor(error)
      button.disabled = false
    }
  })
}

function setUpRegistration (root) {
  const status = root.querySelector('[data-passkey-status]')
  const { csrf, optionsUrl, verifyUrl } = root.dataset
  const button = reveal(root)
  button.addEventListener('click', async () => {
    button.disabled = true
    status.textContent = 'Follow your browser\u2019s instructions to create the passkey…'
    try {
      const options = await postJson(optionsUrl, csrf, {})
      const response = await startRegistration({ optionsJSON: options })
      const result = await postJson(verifyUrl, csrf, { response })
      window.location.assign(result.redirect)
    } catch (error) {
      status.textContent = messageFor(error)
      button.disabled = false
    }
  })
}

if (browserSupportsWebAuthn()) {
  for (const root of document.querySelectorAll('[data-passkey-login]')) setUpLogin(root)
  for (const root of document.querySelectorAll('[data-passkey-register]')) setUpRegistration(root)
}
