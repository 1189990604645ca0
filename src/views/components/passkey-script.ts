/** The passkey pages' one script (public/js/passkeys.js): it loads @simplewebauthn/browser's bundle itself. */
export const PASSKEY_SCRIPT = '/static/js/passkeys.js'
/** Where the app serves @simplewebauthn/browser's prebuilt bundle from node_modules (app.ts). */
export const WEBAUTHN_BROWSER_PREFIX = '/static/vendor/simplewebauthn/'
