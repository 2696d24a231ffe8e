# SPDX-License-Identifier: Apache-2.0
#
# The Ruby acme-client gem (Debian ruby-acme-client), the ACME library of
# GitLab's Let's Encrypt integration and of many Rails applications, driven
# as its README shows, for test_acme_clients.py:
#
#   ruby acme_ruby.rb issue DIRECTORY_URL NAME WEBROOT OUT
#       a P-256 account key (written to OUT/account.pem) and certificate
#       key (OUT/key.pem); new account, new order, the http-01 token file
#       written into WEBROOT/.well-known/acme-challenge/, validation
#       requested and polled, finalize with a CSR, polled; the chain goes
#       to OUT/cert.pem
#   ruby acme_ruby.rb revoke DIRECTORY_URL OUT REASON
#       revokes OUT/cert.pem with the account of OUT/account.pem
#
# The server's root comes from SSL_CERT_FILE (the gem's Faraday uses
# Net::HTTP, which reads it through OpenSSL's default paths). Exit status
# 0 on success; 1 with the gem's error otherwise.
require 'acme-client'
require 'fileutils'
require 'openssl'

# polls a resource until it leaves the states in `busy` (at most 30 s)
def wait_for(resource, busy)
  deadline = Time.now + 30
  while busy.include?(resource.status)
    raise "still #{resource.status} after 30 s" if Time.now > deadline

    sleep(0.2)
    resource.reload
  end
  resource.status
end

# A P-256 account key whose JWK the gem writes correctly. Debian's
# acme-client 2.0.9 drops a coordinate's leading zero bytes
# (Acme::Client::JWK::ECDSA#coordinates: BN#to_s(2)), so one key in 128
# goes out with a 31-byte x or y (fixed upstream in 2024,
# unixcharles/acme-client pull request 240). RFC 7518 6.2.1.2 says a coordinate MUST
# be the curve's full size; certdesk refuses such a JWK (badPublicKey,
# "P-256 coordinates must be 32 bytes each"), as Boulder's go-jose does,
# and a client that sent it would compute a key authorization over the
# short form anyway. Such a key is made again here, so that the test is
# about the flow, not about the gem's one-in-128 bug.
def account_key_for_gem
  loop do
    key = OpenSSL::PKey::EC.generate('prime256v1')
    point = key.public_key.to_bn.to_s(2) # 0x04 || X || Y, 65 bytes
    return key if point.getbyte(1) != 0 && point.getbyte(33) != 0
  end
end

def issue(directory, name, webroot, out)
  account_key = account_key_for_gem
  cert_key = OpenSSL::PKey::EC.generate('prime256v1')
  client = Acme::Client.new(private_key: account_key, directory: directory)
  client.new_account(contact: 'mailto:hostmaster@example.com',
                     terms_of_service_agreed: true)
  order = client.new_order(identifiers: [name])
  dir = File.join(webroot, '.well-known', 'acme-challenge')
  FileUtils.mkdir_p(dir)
  order.authorizations.each do |authz|
    challenge = authz.http
    path = File.join(webroot, challenge.filename)
    File.write(path, challenge.file_content)
    challenge.request_validation
    status = wait_for(challenge, %w[pending processing])
    File.delete(path)
    raise "challenge #{status}: #{challenge.error}" unless status == 'valid'
  end
  csr = Acme::Client::CertificateRequest.new(
    private_key: cert_key, subject: { common_name: name }, names: [name]
  )
  order.finalize(csr: csr)
  status = wait_for(order, %w[pending ready processing])
  raise "order #{status}" unless status == 'valid'

  File.write(File.join(out, 'account.pem'), account_key.to_pem)
  File.write(File.join(out, 'key.pem'), cert_key.to_pem)
  File.write(File.join(out, 'cert.pem'), order.certificate)
end

def revoke(directory, out, reason)
  key = OpenSSL::PKey::EC.new(File.read(File.join(out, 'account.pem')))
  client = Acme::Client.new(private_key: key, directory: directory)
  # the account is found by its key (kid from the server)
  client.account
  cert = File.read(File.join(out, 'cert.pem'))
  raise 'revocation refused' unless client.revoke(certificate: cert,
                                                  reason: Integer(reason))
end

mode, directory, *args = ARGV
begin
  case mode
  when 'issue' then issue(directory, *args)
  when 'revoke' then revoke(directory, *args)
  else abort('usage: acme_ruby.rb issue|revoke DIRECTORY_URL ...')
  end
rescue StandardError => e
  warn("#{e.class}: #{e.message}")
  exit(1)
end
