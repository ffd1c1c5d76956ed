// A keep-alive HTTP load for callgrind runs of the proxy: K connections, N requests each.
#define _GNU_SOURCE
// keep-alive client: K connections, N requests each, round robin, one outstanding per conn.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <netinet/tcp.h>
#include <poll.h>
int main(int argc,char**argv){
  int port=atoi(argv[1]); int K=atoi(argv[2]); int N=atoi(argv[3]); const char*path=argc>4?argv[4]:"/"; int closeMode=argc>5&&atoi(argv[5]);
  char req[256]; int rl=snprintf(req,sizeof req,"GET %s HTTP/1.1\r\nHost: 127.0.0.1:18080\r\n%s\r\n",path,closeMode?"Connection: close\r\n":"");
  int *fd=calloc(K,sizeof(int)); int *done=calloc(K,sizeof(int)); int *got=calloc(K,sizeof(int)); int *need=calloc(K,sizeof(int));
  struct sockaddr_in a={0}; a.sin_family=AF_INET; a.sin_port=htons(port); inet_pton(AF_INET,"127.0.0.1",&a.sin_addr);
  static char buf[1<<20]; static char acc[64][65536];
  for(int i=0;i<K;i++){fd[i]=socket(AF_INET,SOCK_STREAM,0); if(connect(fd[i],(void*)&a,sizeof a)){perror("connect");return 1;} int one=1; setsockopt(fd[i],IPPROTO_TCP,TCP_NODELAY,&one,4); write(fd[i],req,rl); need[i]=-1;}
  struct pollfd *p=calloc(K,sizeof *p); int total=0, errors=0;
  while(total<K*N){
    for(int i=0;i<K;i++){p[i].fd=done[i]>=N?-1:fd[i]; p[i].events=POLLIN;}
    if(poll(p,K,5000)<=0){fprintf(stderr,"timeout total=%d\n",total);return 1;}
    for(int i=0;i<K;i++){ if(!(p[i].revents&(POLLIN|POLLHUP|POLLERR)))continue;
      int n=read(fd[i],acc[i]+got[i],65536-got[i]); if(n<=0){fprintf(stderr,"eof/err conn %d after %d\n",i,done[i]);return 1;}
      got[i]+=n;
      while(1){ acc[i][got[i]]=0; char*e=strstr(acc[i],"\r\n\r\n"); if(!e)break; int hl=e+4-acc[i];
        char*cl=strcasestr(acc[i],"content-length:"); int bl=cl&&cl<e?atoi(cl+15):0; if(got[i]<hl+bl)break;
        if(strncmp(acc[i],"HTTP/1.1 200",12))errors++;
        memmove(acc[i],acc[i]+hl+bl,got[i]-hl-bl); got[i]-=hl+bl; done[i]++; total++;
        if(closeMode){close(fd[i]); if(done[i]<N){fd[i]=socket(AF_INET,SOCK_STREAM,0); connect(fd[i],(void*)&a,sizeof a); int one=1; setsockopt(fd[i],IPPROTO_TCP,TCP_NODELAY,&one,4);} got[i]=0;}
        if(done[i]<N) write(fd[i],req,rl); break; }
    }
  }
  printf("requests=%d errors=%d\n",total,errors); return 0;
}
