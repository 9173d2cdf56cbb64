{%- comment -%}
  The rackforge hypervisor node's autoinstall file (profiles/node-image/installer-init.sh reads
  it): shell KEY='value' lines. The image sits beside the distro's kernel, served as the
  distro's tree (/cblr/links/<distro>/), with the checksum recorded when it was built.
{%- endcomment -%}
# rackforge node install for {{ system_name }} (profile {{ profile_name }}, distro {{ distro_name }})
RF_SYSTEM='{{ system_name }}'
RF_HOSTNAME='{{ hostname | default: system_name | split: "." | first }}'
RF_TOKEN='{{ install_token }}'
RF_IMAGE_URL='http://{{ http_server }}/cblr/links/{{ distro_name }}/node.img'
RF_IMAGE_SHA256_URL='http://{{ http_server }}/cblr/links/{{ distro_name }}/node.img.sha256'
RF_EVENT_URL='http://{{ http_server }}/cblr/svc/op/event/system/{{ system_name }}/token/{{ install_token }}'
RF_NOPXE_URL='{{ nopxe_url }}'
RF_CONTROLLER_URL='http://{{ http_server }}/api/v1'
RF_DISK='{{ node_disk | default: "/dev/vda" }}'
