// The independent side of tests/test_status_list.py: Digital Bazaar's W3C Bitstring Status List
// implementation checks our credentials against our status list. Input on stdin:
// {"list": <the status list credential (the VC-JWT payload)>, "credentials": [<OB credential>, ...]}.
// Its VC-JWT signature is checked in Python with jwcrypto; this library verifies Data Integrity
// proofs only, so verifyBitstringStatusListCredential is off and everything else it checks
// (entry shape, matching purpose and issuer, list type, decoding, the bit) is on.
import {checkStatus, decodeList} from '@digitalbazaar/vc-bitstring-status-list';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const {list, credentials} = JSON.parse(Buffer.concat(chunks).toString('utf8'));

const documentLoader = async url => {
  if(url !== list.id) throw new Error(`unexpected document ${url}`);
  return {contextUrl: null, documentUrl: url, document: list};
};

const statuses = [];
for(const credential of credentials) {
  const result = await checkStatus({credential, documentLoader, verifyBitstringStatusListCredential: false});
  if(!result.verified) throw result.error || new Error('status not verified');
  statuses.push(result.results[0].status);
}
const decoded = await decodeList({encodedList: list.credentialSubject.encodedList});
const setBits = [];
for(let index = 0; index < decoded.length; index++) {
  if(decoded.getStatus(index)) setBits.push(index);
}
process.stdout.write(JSON.stringify({length: decoded.length, statuses, setBits}));
